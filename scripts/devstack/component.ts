import { rssMiB, runningPid } from './proc.js';
import { paths, type ComponentName, type StackProfile } from './profile.js';

export interface ComponentStatus {
  name: ComponentName;
  running: boolean;
  pid?: number;
  address: string;
  rssMiB?: number;
  extra?: string;
}

/** One local server: how to install it (cached), start it and wait for real readiness, stop it, and report on it. */
export interface Component {
  name: ComponentName;
  /** Idempotent: returns quickly when the pinned version is already installed. Returns whether it did any work. */
  install(p: StackProfile): Promise<boolean>;
  /** Starts the server (if not already running) and resolves once it really serves requests. Returns ms until ready, or 0 when it was already up. */
  start(p: StackProfile): Promise<number>;
  stop(p: StackProfile): Promise<boolean>;
  status(p: StackProfile): ComponentStatus;
}

/** The status of a component's server from its pid file and /proc. */
export function daemonStatus(
  p: StackProfile,
  name: ComponentName,
  address: string,
  extra?: string,
): ComponentStatus {
  const pid = runningPid({ name, ...paths(p, name) });
  return { name, running: pid !== undefined, pid, rssMiB: pid ? rssMiB(pid) : undefined, address, extra };
}
