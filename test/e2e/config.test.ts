/** Configuration: flags over env over defaults, every bad value refused at start naming the setting. */
import { describe, expect, it } from 'vitest';
import { ConfigError, configHelp, loadConfig, redactedConfig, redactUrl } from '../../src/config.js';

describe('configuration', () => {
  it('reads defaults, env and flags in that order of precedence', () => {
    const d = loadConfig([], {});
    expect(d).toMatchObject({ port: 8080, commitMode: 'durable', queueName: 'exchange-batches', risk: true });
    expect(d.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/exchange');
    const e = loadConfig([], { PORT: '9000', COMMIT_MODE: 'fast', RISK: 'off' });
    expect(e).toMatchObject({ port: 9000, commitMode: 'fast', risk: false });
    const f = loadConfig(['--port', '9100', '--commit-mode=durable'], { PORT: '9000', COMMIT_MODE: 'fast' });
    expect(f).toMatchObject({ port: 9100, commitMode: 'durable' });
  });

  it('refuses bad values with the setting’s name', () => {
    const bad: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [[], { PORT: 'eighty' }, /port \(PORT\): expected an integer/],
      [[], { PORT: '70000' }, /port \(PORT\): must be at most 65535/],
      [[], { COMMIT_MODE: 'maybe' }, /commitMode \(COMMIT_MODE\): expected one of durable, fast/],
      [[], { RISK: 'perhaps' }, /risk \(RISK\): expected true or false/],
      [[], { ADMIN_TOKEN: 'short' }, /adminToken .* at least 16/],
      [[], { ADMIN_TOKEN: ' '.repeat(20) }, /adminToken .* without spaces/],
      [[], { ADMIN_TOKEN: 'sixteen-chars-and more' }, /adminToken .* without spaces/],
      [[], { ADMIN_TOKEN: 'sixteen-chars-and\tmore' }, /adminToken .* without spaces/],
      [[], { REDIS_URL: 'not a url' }, /redisUrl: not a URL/],
      [['--prot', '1'], {}, /unknown flag --prot/],
      [['stray'], {}, /unexpected argument "stray"/],
    ];
    for (const [argv, env, re] of bad) {
      expect(() => loadConfig(argv, env), JSON.stringify([argv, env])).toThrow(ConfigError);
      expect(() => loadConfig(argv, env)).toThrow(re);
    }
  });

  it('documents every setting and hides secrets in logs', () => {
    const help = configHelp();
    for (const s of ['--port', 'PORT', 'ADMIN_TOKEN', 'DATABASE_URL', 'COMMIT_MODE', 'SLOW_CONSUMER_BYTES']) {
      expect(help).toContain(s);
    }
    const r = redactedConfig(
      loadConfig([], { ADMIN_TOKEN: 'a-very-secret-token-123', DATABASE_URL: 'postgres://u:pw@db:5432/x' }),
    );
    expect(JSON.stringify(r)).not.toContain('a-very-secret-token-123');
    expect(JSON.stringify(r)).not.toContain('pw@');
  });

  it('masks credentials in a URL, in the user part and as query parameters', () => {
    expect(redactUrl('postgres://bob:hunter2@db:5432/x')).toBe('postgres://***@db:5432/x');
    expect(redactUrl('postgres://bob@db:5432/x?password=hunter2&sslmode=require')).toBe(
      'postgres://***@db:5432/x?password=***&sslmode=require',
    );
    expect(redactUrl('postgres://db/x?sslmode=require&sslpassword=s3cret')).toBe(
      'postgres://db/x?sslmode=require&sslpassword=***',
    );
  });
});
