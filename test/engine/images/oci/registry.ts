// Debian's docker-registry (distribution 2.x) on loopback inside the test's network namespace,
// storing in a temp dir, logging every request to a file the tests read (blob GETs), with
// htpasswd basic auth when asked.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../../../../app/base/time.js';

export interface Registry {
  host: string;
  storage: string;
  log: string;
  stop(): Promise<void>;
  /** Digests of the blobs of repo fetched (GET, 200) so far, as the registry logged them. */
  blobGets(repo: string): string[];
}

export async function startRegistry(
  netns: string,
  dir: string,
  port: number,
  auth?: { htpasswd: string },
): Promise<Registry> {
  const storage = join(dir, 'storage');
  const log = join(dir, 'registry.log');
  const config = join(dir, 'config.yml');
  const authYaml = auth ? `auth:\n  htpasswd:\n    realm: banger-test\n    path: ${auth.htpasswd}\n` : '';
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
  );
  const fd = openSync(log, 'a');
  const child: ChildProcess = spawn('ip', ['netns', 'exec', netns, 'docker-registry', 'serve', config], {
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const until = Date.now() + 10_000;
  while (!/listening on/.test(readFileSync(log, 'utf8'))) {
    if (child.exitCode !== null || Date.now() > until)
      throw new Error(`docker-registry did not start: ${readFileSync(log, 'utf8').slice(-500)}`);
    await sleep(20);
  }
  return {
    host: `127.0.0.1:${port}`,
    storage,
    log,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
    blobGets(repo: string) {
      const re = new RegExp(`"GET /v2/${repo}/blobs/(sha256:[0-9a-f]{64}) HTTP/[0-9.]+" 200 `);
      return readFileSync(log, 'utf8')
        .split('\n')
        .map((l) => re.exec(l)?.[1])
        .filter((d): d is string => !!d);
    },
  };
}

/** The registry's file for a blob (to tamper with it). */
export function registryBlob(storage: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
