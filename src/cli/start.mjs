// `npm start`: runs src/server.ts from one JavaScript bundle instead of through tsx.
//
// Why: tsx compiles TypeScript through loader hooks that Node consults for every module the process
// loads, node_modules included, over a message channel to a hooks thread. On a 2-core machine that
// took 3 to 5 seconds of every start, warm or cold (measured: importing the server's modules took
// 3.0–4.2 s through tsx, 0.3 s from a bundle). esbuild bundles our own sources (node_modules stay
// external and load natively) in about 0.2 s; the bundle is rebuilt whenever one of the files it was
// built from changed (their modification times are kept beside it), so it is never stale.
// `npm run dev` (watch mode) and the tests still use tsx.
//
// Plain JavaScript because it runs before anything can compile TypeScript.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(root, 'src/server.ts');
// The worker thread's module (src/worker/thread-host.ts finds its bundle through MARKETPLACE_WORKER_THREAD).
const threadEntry = join(root, 'src/worker/thread.ts');
// Inside the project so the bundle's bare imports resolve to the project's node_modules.
const outdir = join(root, 'node_modules/.cache/marketplace-start');
const outfile = join(outdir, 'server.mjs');
const threadOutfile = join(outdir, 'worker-thread.mjs');
/** Every file the bundle was built from, with its modification time: `{ [path]: mtimeMs }`. */
const inputsFile = `${outfile}.inputs.json`;
/** Files that change the bundle without being part of it. */
const buildFiles = [fileURLToPath(import.meta.url), join(root, 'tsconfig.json'), join(root, 'package.json')];

/**
 * Modules that locate files next to themselves (app.ts finds views/ through import.meta.url) must
 * keep their own URL once inlined into the bundle, which lives elsewhere.
 */
const keepImportMetaUrl = {
  name: 'keep-import-meta-url',
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

function modifiedTimes(paths) {
  return Object.fromEntries(paths.map((path) => [path, statSync(path).mtimeMs]));
}

function bundleIsCurrent() {
  try {
    const recorded = JSON.parse(readFileSync(inputsFile, 'utf8'));
    statSync(outfile);
    statSync(threadOutfile);
    // Built from this checkout's files (node_modules, and the bundle in it, may be shared by
    // another checkout of the project), none changed since.
    return Object.entries(recorded).every(([path, mtimeMs]) => path.startsWith(root) && statSync(path).mtimeMs === mtimeMs);
  } catch {
    return false; // no bundle yet, or a file it was built from is gone
  }
}

async function bundle() {
  // Loaded only when there is something to build: a warm start does not pay for esbuild.
  const { build } = await import('esbuild');
  const startedAt = Date.now();
  const result = await build({
    absWorkingDir: root,
    entryPoints: { server: entry, 'worker-thread': threadEntry },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    keepNames: true,
    sourcemap: 'linked',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [keepImportMetaUrl],
  });
  const inputs = modifiedTimes([...Object.keys(result.metafile.inputs).map((input) => resolve(root, input)), ...buildFiles]);
  // A file saved while esbuild was reading it may be in the bundle in its old form: then keep no
  // record, so the next start builds again.
  const settled = Object.values(inputs).every((mtimeMs) => mtimeMs < startedAt - 1000);
  mkdirSync(dirname(outfile), { recursive: true });
  // Write then rename: a second `npm start` from the same folder never reads a half-written file.
  const files = [...result.outputFiles.map((file) => [file.path, file.contents]), ...(settled ? [[inputsFile, JSON.stringify(inputs)]] : [])];
  for (const [path, contents] of files) {
    const temporary = join(dirname(path), `.${basename(path)}.${process.pid}`);
    writeFileSync(temporary, contents);
    renameSync(temporary, path);
  }
}

let bundled = bundleIsCurrent();
try {
  if (!bundled) await bundle();
  bundled = true;
} catch (error) {
  // A read-only node_modules or a broken esbuild install: start anyway, just more slowly.
  console.error(`(Could not bundle the server, starting it through tsx instead: ${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
}
if (bundled) {
  process.env.MARKETPLACE_WORKER_THREAD = threadOutfile;
  await import(pathToFileURL(outfile).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(entry).href);
}
