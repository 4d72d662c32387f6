import { AwayTime } from './away-time.js';

describe('AwayTime', () => {
  test('checks on time, or late by up to a period, were never away', () => {
    const away = new AwayTime(500, 0);
    expect(away.sinceLastCheck(500)).toBe(0);
    expect(away.sinceLastCheck(1_400)).toBe(0);
    expect(away.sinceLastCheck(2_400)).toBe(0);
  });

  test('a check late by more than a period reports the time beyond the period, once', () => {
    const away = new AwayTime(500, 0);
    expect(away.sinceLastCheck(500)).toBe(0);
    expect(away.sinceLastCheck(7_000)).toBe(6_000);
    expect(away.sinceLastCheck(7_500)).toBe(0);
  });
});
