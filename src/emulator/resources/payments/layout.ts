/**
 * The core's page layout plus an empty favicon link: without it the browser asks the emulator
 * for /favicon.ico, which falls through to the authenticated API and logs a 401 in the console.
 */
import { layout, type RawHtml } from '../../core/html.ts';

export function page(title: string, body: RawHtml): string {
  return layout(title, body).replace('<head>', '<head><link rel="icon" href="data:,">');
}
