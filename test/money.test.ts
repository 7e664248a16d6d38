// parseMoney is the one door money input comes through (listing prices, refunds, payouts, fees):
// it accepts one written form and refuses everything it would have to guess at.
import { describe, expect, it } from 'vitest';
import { parseMoney } from '../src/money.ts';

describe('parseMoney', () => {
  it.each([
    ['12.50', 'usd', 1250],
    ['12.5', 'eur', 1250],
    ['12', 'usd', 1200],
    ['  0.50 ', 'gbp', 50],
    ['1250.50', 'usd', 125050],
    ['500', 'jpy', 500],
  ])('reads %s %s as %i minor units', (input, currency, amount) => {
    expect(parseMoney(input, currency)).toEqual({ ok: true, amount });
  });

  it.each([
    ['12,50', 'eur'], // 12.50 in most of Europe, 1250 in the US
    ['1,0,0.00', 'usd'], // grouping that groups nothing
    ['1,250.00', 'usd'],
    ['1.250,00', 'eur'],
    ['1 250.00', 'eur'],
    ["1'250.00", 'chf'],
    ['1,000', 'jpy'],
  ])('refuses %s (%s) with a message instead of guessing the separators', (input, currency) => {
    const result = parseMoney(input, currency);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/^Write the amount without commas, spaces or other separators/);
  });

  it('tells a zero-decimal currency to use whole numbers, and others to use a point', () => {
    expect(parseMoney('1,000', 'jpy')).toEqual({ ok: false, message: 'Write the amount without commas, spaces or other separators, like 1250' });
    expect(parseMoney('12,50', 'eur')).toEqual({
      ok: false,
      message: 'Write the amount without commas, spaces or other separators, with a point for decimals, like 1250.50',
    });
  });

  it.each([
    ['1.234', 'usd'],
    ['-5', 'usd'],
    ['+5', 'usd'],
    ['5.', 'usd'],
    ['.5', 'usd'],
    ['1e3', 'usd'],
    ['٣', 'usd'],
    ['49.5', 'jpy'],
    ['', 'usd'],
  ])('refuses %s (%s)', (input, currency) => {
    expect(parseMoney(input, currency).ok).toBe(false);
  });
});
