export { AgentOperations, operationsFromEnvironment, type AgentStatus, type OperationsHooks, type OperationsOptions } from './operations.js';
export { AgentMetrics, type CallEndReason, type LatencyStage } from './metrics.js';
export { StallMonitor, type EventLoopStall, type StallMonitorOptions } from './stall-monitor.js';
export type { Health, Readiness, WorkersHealth } from './server.js';
export { mergeWorkerMetrics, type MetricsSnapshot, type WorkerMetricsSnapshot } from './worker-metrics.js';
export { AgentTracing, type CallTrace, type TracingOptions } from './tracing.js';
export { CallTraceObserver } from './call-trace-observer.js';
