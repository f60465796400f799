// Where an Agent's calls come from. By default the Agent registers with Piopiy signaling itself
// (SignalingInviteSource); a worker of `piopiy-ai start --workers N` takes them from its supervisor over IPC instead
// (IpcInviteSource). The Agent runs calls the same way whichever source delivers them.

/** What the Agent does with what a source delivers. */
export interface InviteHandlers {
  /** A `join_room` payload (validated by the Agent). Returns whether a call was started for it. */
  onInvite(payload: unknown): boolean;
  /** A `cancel_room` payload: end that room's call now. */
  onCancel(payload: unknown): void;
  /**
   * End that room's call as failed: the caller hears the VoiceAgent's error goodbye, then the call ends. Used by a
   * worker told to retire (over its memory limit) so its callers are not cut off mid-sentence.
   */
  onFail(roomName: string, reason: string): void;
}

export interface InviteSource {
  /** Whether invites can arrive now (what /readyz reports as `connected`). */
  readonly connected: boolean;
  /**
   * Starts delivering invites to `handlers`; resolves once registered (invites may arrive from then on, or even
   * before it resolves). Rejects with a clear error when it cannot register.
   */
  open(handlers: InviteHandlers): Promise<void>;
  /** Stops delivering invites (the Agent is draining). Calls in progress are not touched. */
  close(): void;
  /** A call this source delivered has ended (a supervisor's worker reports it, to keep its load count right). */
  callEnded?(roomName: string): void;
}
