// The emulator's pages are what a developer clicks through offline: the grey explanatory text
// inside the purple primary button (the onboarding page's "Verified" choice) was unreadable.
// WCAG's contrast ratio for every text colour the stylesheet puts on a coloured background.
import { describe, expect, it } from 'vitest';
import { html, layout } from '../../src/emulator/core/html.ts';

function luminance(hex: string): number {
  const digits = hex.replace('#', '');
  const full = digits.length === 3 ? [...digits].map((d) => d + d).join('') : digits;
  const channels = full.match(/../g)!.map((c) => parseInt(c, 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The last colour a rule with exactly this selector sets (later rules win, as in the browser). */
function colourOf(css: string, selector: string, property: 'color' | 'background'): string {
  const rules = [...css.matchAll(/([^{}]+)\{([^}]*)\}/g)].filter(([, sel]) => sel!.trim() === selector);
  const values = rules.flatMap(([, , body]) =>
    [...body!.matchAll(new RegExp(`(?:^|;)${property}:(#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\\b)`, 'g'))].map((m) => m[1]!),
  );
  expect(values.length, `${selector} ${property}`).toBeGreaterThan(0);
  return values.at(-1)!;
}

describe('emulator page colours', () => {
  const css = layout('Onboarding', html`<p>x</p>`).match(/<style>([\s\S]*)<\/style>/)![1]!;

  it('the explanatory line inside a primary button is readable (contrast ≥ 4.5)', () => {
    const background = colourOf(css, 'button.primary', 'background');
    expect(contrast(colourOf(css, 'button.primary .muted', 'color'), background)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(colourOf(css, 'button.primary', 'color'), background)).toBeGreaterThanOrEqual(4.5);
  });

  it('the muted text on the white page stays readable too', () => {
    expect(contrast(colourOf(css, '.muted', 'color'), '#ffffff')).toBeGreaterThanOrEqual(4.5);
  });
});
