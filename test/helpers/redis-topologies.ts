import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { pingRedis } from './redis.ts';

const exec = promisify(execFile);

/** True when nothing listens on this loopback port right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports in [from, to), each with `port + busOffset` free too (cluster bus). */
async function freeRange(from: number, to: number, count: number, busOffset = 0): Promise<number[]> {
  // Start at a random offset so two suites running at once rarely race for the same ports.
  const span = to - from - count;
  for (let tries = 0; tries < 40; tries++) {
    const start = from + Math.floor(Math.random() * span);
    const ports = Array.from({ length: count }, (_, i) => start + i);
    const checks = await Promise.all(
      ports.flatMap((port) => [portFree(port), ...(busOffset ? [portFree(port + busOffset)] : [])]),
    );
    if (checks.every(Boolean)) return ports;
  }
  throw new Error(`no ${count} free ports in ${from}-${to}`);
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await exec('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 });
  return stdout.trim();
}

interface Node {
  readonly port: number;
  child: ChildProcess;
}

function launch(dir: string, args: readonly string[]): ChildProcess {
  mkdirSync(dir, { recursive: true });
  const child = spawn('redis-server', [...args], { cwd: dir, stdio: 'ignore' });
  child.on('error', () => {});
  return child;
}

async function killNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGKILL');
  await exited;
}

/** Options every lab node gets: no persistence, replicas sync at once (a failover needs a synced replica). */
const NODE_ARGS = [
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--repl-diskless-sync-delay',
  '0',
];

/** A Redis Cluster of 3 masters with one replica each, on loopback ports 7100-7199. */
export interface RedisClusterLab {
  /** Seed URLs (every node). */
  readonly urls: readonly string[];
  /** Port of the master serving `slot`. */
  masterOf(slot: number): Promise<number>;
  /** Ports of the current masters. */
  masters(): Promise<number[]>;
  /** SIGKILL the node on `port` (a crash); its replica takes over after cluster-node-timeout. */
  kill(port: number): Promise<void>;
  /** Resolves once every slot is served again (cluster_state:ok seen from `viaPort`). */
  healthy(viaPort?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start 6 `redis-server --cluster-enabled` nodes and `redis-cli --cluster create` them (3 masters,
 * 3 replicas), wait for `cluster_state:ok` and for every replica's first sync (a master killed before
 * it would never fail over). `cluster-node-timeout` is 2000 ms so a failover takes a few seconds.
 */
export async function startRedisCluster(): Promise<RedisClusterLab> {
  const ports = await freeRange(7100, 7200, 6, 10_000);
  const root = `/tmp/alchemist-cluster-${ports[0]}`;
  const nodes: Node[] = ports.map((port) => ({
    port,
    child: launch(`${root}/${port}`, [
      '--port',
      String(port),
      ...NODE_ARGS,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      '2000',
    ]),
  }));
  const alive = () => nodes.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
  const stop = async () => {
    await Promise.all(nodes.map(killNode));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const { port } of nodes) await until(() => pingRedis(port), `cluster node ${port}`);
    await exec(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const lab: RedisClusterLab = {
      urls: ports.map((port) => `redis://127.0.0.1:${port}`),
      async masterOf(slot) {
        const via = alive()[0]!.port;
        const shards = JSON.parse(await redisCli(via, '--json', 'cluster', 'slots')) as [
          number,
          number,
          [string, number],
        ][];
        const shard = shards.find(([from, to]) => slot >= from && slot <= to);
        if (!shard) throw new Error(`slot ${slot} is not served`);
        return shard[2][1];
      },
      async masters() {
        const via = alive()[0]!.port;
        const lines = (await redisCli(via, 'cluster', 'nodes')).split('\n');
        return lines
          .filter((line) => / master /.test(line.replace(/,/g, ' ')) && !line.includes('fail'))
          .map((line) => Number(/:(\d+)@/.exec(line)![1]));
      },
      async kill(port) {
        const node = nodes.find((n) => n.port === port);
        if (node) await killNode(node);
      },
      async healthy(viaPort) {
        const via = viaPort ?? alive()[0]!.port;
        await until(
          async () => (await redisCli(via, 'cluster', 'info')).includes('cluster_state:ok'),
          'cluster_state:ok',
        );
      },
      stop,
    };
    for (const { port } of nodes) await lab.healthy(port);
    for (const { port } of nodes) {
      await until(async () => {
        const info = await redisCli(port, 'info', 'replication');
        return info.includes('role:master')
          ? /connected_slaves:1/.test(info)
          : info.includes('master_link_status:up');
      }, `replication on ${port}`);
    }
    return lab;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A master, one replica and three sentinels (quorum 2) on loopback, the sentinels on 27100-27199. */
export interface RedisSentinelLab {
  readonly name: string;
  /** Sentinel URLs. */
  readonly urls: readonly string[];
  /** Port of the master the sentinels agree on. */
  master(): Promise<number>;
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start a master and a replica (ports 7100-7199) and three `redis-server --sentinel` processes with
 * `down-after-milliseconds 2000`, and wait until every sentinel sees the replica and the others.
 */
export async function startRedisSentinels(name = 'alchemist'): Promise<RedisSentinelLab> {
  const [masterPort, replicaPort] = await freeRange(7100, 7200, 2);
  const sentinelPorts = await freeRange(27_100, 27_200, 3);
  const root = `/tmp/alchemist-sentinel-${sentinelPorts[0]}`;
  const nodes: Node[] = [
    {
      port: masterPort!,
      child: launch(`${root}/${masterPort}`, ['--port', String(masterPort), ...NODE_ARGS]),
    },
    {
      port: replicaPort!,
      child: launch(`${root}/${replicaPort}`, [
        '--port',
        String(replicaPort),
        ...NODE_ARGS,
        '--replicaof',
        '127.0.0.1',
        String(masterPort),
      ]),
    },
  ];
  const stop = async () => {
    await Promise.all(nodes.map(killNode));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await until(() => pingRedis(masterPort!), 'sentinel lab master');
    await until(
      async () => (await redisCli(replicaPort!, 'info', 'replication')).includes('master_link_status:up'),
      'replica synced',
    );
    for (const port of sentinelPorts) {
      const dir = `${root}/s${port}`;
      mkdirSync(dir, { recursive: true });
      // Sentinels rewrite their file with what they discover: it must be writable.
      writeFileSync(
        `${dir}/sentinel.conf`,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} 2000`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      nodes.push({ port, child: launch(dir, ['sentinel.conf', '--sentinel']) });
    }
    for (const port of sentinelPorts) {
      await until(async () => {
        const fields = (await redisCli(port, 'sentinel', 'master', name).catch(() => '')).split('\n');
        const value = (key: string) => fields[fields.indexOf(key) + 1];
        return value('num-slaves') === '1' && value('num-other-sentinels') === '2';
      }, `sentinel ${port} discovered the set`);
    }
    return {
      name,
      urls: sentinelPorts.map((port) => `redis://127.0.0.1:${port}`),
      async master() {
        const reply = await redisCli(sentinelPorts[0]!, 'sentinel', 'get-master-addr-by-name', name);
        return Number(reply.split('\n')[1]);
      },
      async kill(port) {
        const node = nodes.find((n) => n.port === port);
        if (node) await killNode(node);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
