export { runSimulatorCli } from './cli.ts';
export type { SimulatedReply } from './reply.ts';
export { countInputTokens, simulateReply, textOf } from './reply.ts';
export { startSimulator } from './server.ts';
export type {
  SimulatedFailure,
  Simulator,
  SimulatorMode,
  SimulatorOptions,
  SimulatorStats,
} from './types.ts';
