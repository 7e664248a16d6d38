// What each benchmark part hands back to `npm run bench` for the closing summary: the acceptance
// figures of issue 17, each with its goal and whether this run met it.
export interface Check {
  name: string;
  value: string;
  goal: string;
  met: boolean | undefined;
}

export const fmt = (value: number | undefined | null, digits = 1): string =>
  value === undefined || value === null || Number.isNaN(value) ? 'n/a' : value.toFixed(digits);

export const verdict = (met: boolean | undefined): string => (met === undefined ? 'n/a' : met ? 'met' : 'NOT met');
