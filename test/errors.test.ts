import { describe, expect, it } from 'vitest';
import { ConfigError, UnreachableError, UsageError, coerceError } from '../src/errors.js';

describe('errors (src/errors.ts)', () => {
  it('coerceError returns an Error as it is, its cause kept', () => {
    const root = new Error('socket closed');
    const err = new Error('write failed', { cause: root });
    expect(coerceError(err)).toBe(err);
    expect(coerceError(err).cause).toBe(root);
  });

  it('coerceError makes anything else the cause of a new Error with its text', () => {
    const thrown = { code: 'E42', detail: 'x' };
    const err = coerceError(thrown);
    expect(err.message).toBe('{"code":"E42","detail":"x"}');
    expect(err.cause).toBe(thrown);
    expect(coerceError('plain text')).toMatchObject({ message: 'plain text', cause: 'plain text' });
    expect(coerceError(undefined)).toMatchObject({ message: 'undefined', cause: undefined });
  });

  it('UnreachableError names the server and keeps what the client threw as its cause', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:1');
    const err = new UnreachableError('redis', 'redis://127.0.0.1:1', cause);
    expect(err.message).toBe('redis at redis://127.0.0.1:1 is unreachable: connect ECONNREFUSED 127.0.0.1:1');
    expect(err.cause).toBe(cause);
  });

  it('each behaviour has its own class: a bad setting is not a usage mistake', () => {
    const usage = new UsageError('--assets "0" is not valid');
    const setting = new ConfigError('DATA_STALE_S', 'soon', 'a whole number');
    expect(usage).not.toBeInstanceOf(ConfigError);
    expect(setting).not.toBeInstanceOf(UsageError);
    expect([usage.name, setting.name]).toEqual(['UsageError', 'ConfigError']);
  });
});
