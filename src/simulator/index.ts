export { runSimulatorCli } from './cli.ts';
export type { SimulatedReply } from './reply.ts';
export { countInputTokens, simulateReply, textOf } from './reply.ts';
export { SIMULATED_MODELS, startSimulator } from './server.ts';
export type {
  SimulatedApi,
  SimulatedFailure,
  Simulator,
  SimulatorMode,
  SimulatorOptions,
  SimulatorStats,
} from './types.ts';
