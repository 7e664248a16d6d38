/**
 * What resource modules register before the server listens: API routes (with their parameter
 * specs), hosted pages, control endpoints, seeds, extra webhook targets and account resolvers.
 */
import type Stripe from 'stripe';
import { p, toSpec, type Spec } from './params.ts';
import { Router } from './router.ts';
import type { Target } from './webhooks.ts';
import type { ApiHandler, ControlHandler, PageHandler, RouteOptions } from './types.ts';

export interface ApiRoute {
  handler: ApiHandler;
  spec: ObjectSpec;
  list: boolean;
}

type ObjectSpec = Extract<Spec, { $t: 'object' }>;

export class Registry {
  readonly api = new Router<ApiRoute>();
  readonly pages = new Router<PageHandler>();
  readonly controls = new Router<ControlHandler>();
  private readonly seeds: Array<() => void> = [];
  private readonly webhookTargets: Array<(evt: Stripe.Event) => Target[]> = [];
  private readonly accountResolvers: Array<(id: string) => boolean> = [];

  addRoute(method: string, path: string, options: RouteOptions, handler: ApiHandler): void {
    this.api.add(method, path, { handler, spec: routeSpec(options), list: !!options.list });
  }

  /**
   * Accept more parameters on a route another module registered (e.g. billing's `customer`
   * fields on a payments route). Additive only: existing fields keep their spec.
   */
  extendRoute(method: string, path: string, options: Pick<RouteOptions, 'params' | 'required'>): void {
    const route = this.api.find(method, path);
    if (!route) throw new Error(`extendRoute: no route ${method.toUpperCase()} ${path}`);
    const extra = options.params ? toSpec(options.params) : p.object({});
    if (extra.$t !== 'object') throw new Error('route params must be an object spec');
    for (const [name, spec] of Object.entries(extra.fields)) route.spec.fields[name] ??= spec;
    if (options.required?.length) route.spec.required = [...(route.spec.required ?? []), ...options.required];
  }

  addPage(method: string, path: string, handler: PageHandler): void {
    this.pages.add(method, path, handler);
  }

  addControl(method: string, path: string, handler: ControlHandler): void {
    if (!path.startsWith('/_emulator/')) throw new Error('control paths live under /_emulator/');
    this.controls.add(method, path, handler);
  }

  addSeed(fn: () => void): void {
    this.seeds.push(fn);
  }

  runSeeds(): void {
    for (const seed of this.seeds) seed();
  }

  addWebhookTargets(fn: (evt: Stripe.Event) => Target[]): void {
    this.webhookTargets.push(fn);
  }

  extraTargets(evt: Stripe.Event): Target[] {
    return this.webhookTargets.flatMap((f) => f(evt));
  }

  addAccountResolver(fn: (id: string) => boolean): void {
    this.accountResolvers.push(fn);
  }

  accountExists(id: string): boolean {
    return this.accountResolvers.some((f) => f(id));
  }
}

/** The full parameter spec of a route: its own fields, `expand`, and the list fields. */
function routeSpec(options: RouteOptions): ObjectSpec {
  const base = options.params ? toSpec(options.params) : p.object({});
  if (base.$t !== 'object') throw new Error('route params must be an object spec');
  const fields: Record<string, Spec> = { ...base.fields };
  fields.expand ??= p.array(p.string);
  if (options.list) {
    fields.limit ??= p.int(1, 100);
    fields.starting_after ??= p.string;
    fields.ending_before ??= p.string;
    fields.created ??= p.range;
  }
  return { $t: 'object', fields, ...(options.required ? { required: options.required } : {}) };
}
