/** Stripe's list objects: `created` filters and cursor pagination over newest-first items. */
import type Stripe from 'stripe';
import { invalidRequest } from './errors.ts';
import type { ParamValue } from './params.ts';
import type { ApiRequest } from './types.ts';

export type ListItem = { id: string; created?: number };

export function paginate<T extends ListItem>(req: ApiRequest, items: T[], url: string = req.path): Stripe.ApiList<T> {
  let list = filterCreated(items, req.params.created);
  const limit = typeof req.params.limit === 'number' ? req.params.limit : 10;
  const after = typeof req.params.starting_after === 'string' && req.params.starting_after ? req.params.starting_after : undefined;
  const before = typeof req.params.ending_before === 'string' && req.params.ending_before ? req.params.ending_before : undefined;
  if (after) {
    const i = list.findIndex((x) => x.id === after);
    if (i < 0) throw invalidRequest(`Invalid starting_after id: ${after}`, { param: 'starting_after', code: 'resource_missing' });
    list = list.slice(i + 1);
    return { object: 'list', data: list.slice(0, limit), has_more: list.length > limit, url };
  }
  if (before) {
    const i = list.findIndex((x) => x.id === before);
    if (i < 0) throw invalidRequest(`Invalid ending_before id: ${before}`, { param: 'ending_before', code: 'resource_missing' });
    const prior = list.slice(0, i);
    const page = prior.slice(Math.max(0, prior.length - limit));
    return { object: 'list', data: page, has_more: prior.length > limit, url };
  }
  return { object: 'list', data: list.slice(0, limit), has_more: list.length > limit, url };
}

function filterCreated<T extends ListItem>(items: T[], created: ParamValue | undefined): T[] {
  if (typeof created === 'number') return items.filter((x) => x.created === created);
  if (!created || typeof created !== 'object' || Array.isArray(created)) return items;
  const r = created;
  return items.filter((x) => {
    const c = x.created ?? 0;
    if (typeof r.gt === 'number' && !(c > r.gt)) return false;
    if (typeof r.gte === 'number' && !(c >= r.gte)) return false;
    if (typeof r.lt === 'number' && !(c < r.lt)) return false;
    if (typeof r.lte === 'number' && !(c <= r.lte)) return false;
    return true;
  });
}
