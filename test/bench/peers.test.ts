import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { peerRatios } from '../../bench/scenarios/peers.ts';
import { loopbackListenArgs } from '../../bench/systems/peer-agent.ts';
import {
  installedPortkey,
  PORTKEY_OVERRIDES,
  PORTKEY_VERSION,
  peerPackageJson,
  portkeyHeaders,
} from '../../bench/systems/portkey.ts';
import type { SystemResult } from '../../bench/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'alchemist-peers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeInstall(root: string, versions: Record<string, string>, bin = 'build/start-server.js'): void {
  for (const [name, version] of Object.entries(versions)) {
    const at = join(root, 'node_modules', ...name.split('/'));
    mkdirSync(at, { recursive: true });
    const manifest = name === '@portkey-ai/gateway' ? { name, version, bin } : { name, version };
    writeFileSync(join(at, 'package.json'), JSON.stringify(manifest));
  }
  const entry = join(root, 'node_modules/@portkey-ai/gateway', bin);
  mkdirSync(join(entry, '..'), { recursive: true });
  writeFileSync(entry, '');
}

describe('Portkey as a peer (no install, no load)', () => {
  it('routes each request to the simulator the way a Portkey user does, by headers', () => {
    expect(portkeyHeaders('http://127.0.0.1:4312/')).toEqual({
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': 'http://127.0.0.1:4312/v1',
      authorization: 'Bearer bench-provider-key',
    });
  });

  it('pins Portkey and the two dependencies its own lockfile pins, in a private scratch package', () => {
    const manifest = JSON.parse(peerPackageJson()) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      private: true,
      dependencies: { '@portkey-ai/gateway': PORTKEY_VERSION },
      overrides: { '@hono/node-server': '1.13.5', hono: '4.9.7' },
    });
  });

  it('skips the install only when the pinned versions are all there', () => {
    const root = join(dir, 'ok');
    fakeInstall(root, { '@portkey-ai/gateway': PORTKEY_VERSION, ...PORTKEY_OVERRIDES });
    expect(installedPortkey(root)).toBe(join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js'));

    const older = join(dir, 'older');
    fakeInstall(older, { '@portkey-ai/gateway': '1.14.0', ...PORTKEY_OVERRIDES });
    expect(installedPortkey(older)).toBeUndefined();

    const unpinned = join(dir, 'unpinned');
    fakeInstall(unpinned, { '@portkey-ai/gateway': PORTKEY_VERSION, ...PORTKEY_OVERRIDES, hono: '4.13.19' });
    expect(installedPortkey(unpinned)).toBeUndefined();

    expect(installedPortkey(join(dir, 'nothing-here'))).toBeUndefined();
  });

  it('keeps the peer on loopback whatever host it asks to listen on', () => {
    const cb = () => {};
    expect(loopbackListenArgs([0])).toEqual([0, '127.0.0.1']);
    expect(loopbackListenArgs([8787, cb])).toEqual([8787, '127.0.0.1', cb]);
    expect(loopbackListenArgs([8787, undefined, cb])).toEqual([8787, '127.0.0.1', cb]);
    expect(loopbackListenArgs([8787, '0.0.0.0', 511, cb])).toEqual([8787, '127.0.0.1', 511, cb]);
    expect(loopbackListenArgs([{ port: 0, host: '::' }, cb])).toEqual([{ port: 0, host: '127.0.0.1' }, cb]);
    expect(loopbackListenArgs([{ path: '/tmp/s.sock' }])).toEqual([{ path: '/tmp/s.sock' }]);
  });

  it('derives the issue 14 figures: req/s pack / Portkey >= 2 on a miss, CPU and TTFC both paths', () => {
    const system = (
      name: string,
      throughput: number,
      cpuPerRequestUs: number,
      ttfc?: number,
    ): SystemResult => ({
      name,
      label: name,
      requests: 1000,
      errors: 0,
      throughput,
      latencyMs: { p50: 1, p95: 2, p99: 3, max: 4, mean: 1 },
      ...(ttfc === undefined ? {} : { ttfcMs: { p50: ttfc, p95: ttfc, p99: ttfc, max: ttfc, mean: ttfc } }),
      cpuPerRequestUs,
      cpuCores: 1,
      rssMb: 100,
      idleRssMb: 90,
      heapUsedMb: 10,
      heapTotalMb: 20,
    });
    const ratios = peerRatios([
      system('bare-undici-miss', 3000, 300),
      system('portkey-miss', 1500, 600),
      system('pack-miss', 3300, 330),
      system('bare-undici-stream', 2000, 400, 2),
      system('portkey-stream', 800, 1200, 28),
      system('pack-stream', 1600, 560, 3),
    ]);
    const byId = Object.fromEntries(ratios.map((r) => [r.id, r]));
    expect(byId['miss-throughput-vs-portkey']).toMatchObject({
      value: 2.2,
      target: { op: '>=', value: 2 },
      pass: true,
    });
    expect(byId['miss-cpu-vs-portkey']?.value).toBe(0.55);
    expect(byId['miss-portkey-cpu-vs-undici']).toMatchObject({ value: 2, gate: false });
    expect(byId['stream-throughput-vs-portkey']?.value).toBe(2);
    expect(byId['stream-cpu-vs-portkey']?.value).toBe(0.467);
    expect(byId['stream-ttfc-vs-portkey']?.value).toBe(0.107);
    expect(byId['stream-portkey-cpu-vs-undici']).toMatchObject({ value: 3, gate: false });
    expect(ratios.filter((r) => r.target).map((r) => r.id)).toEqual(['miss-throughput-vs-portkey']);
  });
});
