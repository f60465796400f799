export { AgentOperations, operationsFromEnvironment, type AgentStatus, type OperationsOptions } from './operations.js';
export { AgentMetrics, type CallEndReason, type LatencyStage } from './metrics.js';
export { StallMonitor, type EventLoopStall, type StallMonitorOptions } from './stall-monitor.js';
export type { Health, Readiness } from './server.js';
export { AgentTracing, type CallTrace, type TracingOptions } from './tracing.js';
export { CallTraceObserver } from './call-trace-observer.js';
