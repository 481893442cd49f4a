import { describe, expect, it } from 'vitest';
import { ConfigError, UnreachableError, UsageError, coerceError } from '../src/errors.js';
import { isConnectionError, reasonInWords } from '../src/reachability.js';

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

  it('UnreachableError names the server, says why in words, and keeps what the client threw as its cause', () => {
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:1');
    const err = new UnreachableError('redis', 'redis://127.0.0.1:1', cause);
    expect(err.message).toBe('redis at redis://127.0.0.1:1 is unreachable: connection refused');
    expect(err.cause).toBe(cause);
    // ioredis's text once its retries ended, as `status` printed it with Redis stopped.
    expect(new UnreachableError('redis', 'redis://127.0.0.1:1', new Error('Connection is closed.')).message).toBe(
      'redis at redis://127.0.0.1:1 is unreachable: connection lost',
    );
  });

  it('each behaviour has its own class: a bad setting is not a usage mistake', () => {
    const usage = new UsageError('--assets "0" is not valid');
    const setting = new ConfigError('DATA_STALE_S', 'soon', 'a whole number');
    expect(usage).not.toBeInstanceOf(ConfigError);
    expect(setting).not.toBeInstanceOf(UsageError);
    expect([usage.name, setting.name]).toEqual(['UsageError', 'ConfigError']);
  });
});

describe('connection errors in words (src/reachability.ts)', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }), 'connection refused'],
    [new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'no connection'],
    // The Hazelcast client's IOError when a member goes away mid-call (seen in the soak's member kills).
    [new Error('Socket error.'), 'connection lost'],
    [new Error('No connection found to cluster'), 'no connection'],
  ])('%s is a connection error, said as "%s"', (err, words) => {
    expect(isConnectionError(err)).toBe(true);
    expect(reasonInWords(err)).toBe(words);
  });

  it('any other error keeps its own text', () => {
    const err = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(isConnectionError(err)).toBe(false);
    expect(reasonInWords(err)).toBe(err.message);
  });
});
