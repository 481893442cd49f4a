import { describe, expect, it } from 'vitest';
import { bullmqVersionProblem, installedBullmqVersion } from '../src/jobs/bullmq-version.js';

describe('the BullMQ version check at start-up', () => {
  it('accepts the installed BullMQ, which package-lock.json pins', () => {
    expect(bullmqVersionProblem(installedBullmqVersion())).toBeNull();
  });

  it.each(['6.8.0', '5.7.0', '7.0.0', '6.6.3', 'next'])('refuses %s, naming it and the tested range', (v) => {
    const problem = bullmqVersionProblem(v);
    expect(problem).toContain(v);
    expect(problem).toContain('6.7.x');
  });

  it.each(['6.7.0', '6.7.12'])('accepts %s', (v) => {
    expect(bullmqVersionProblem(v)).toBeNull();
  });
});
