/**
 * One target's checks, one at a time: a TCP connect, and for an HTTP check the request and
 * the first bytes of the status line. Everything a check needs is made once per target
 * (connect options, request bytes, event handlers, a 13-byte buffer for the status line);
 * a check itself allocates only its socket. Reads land in one small buffer shared by all
 * probes (`onread`: handled synchronously, so sharing is safe), never in a new Buffer.
 *
 * A socket is closed as soon as the verdict is known: with a RST once connected (as
 * HAProxy's checks do, so a thousand checks a second leave no TIME_WAIT behind on either
 * side), with a plain destroy while still connecting. The probe does not time checks out:
 * the checker's scheduler does, and calls abort().
 */
import { Socket, connect, type TcpNetConnectOpts } from "net";
import { CLOSED_BEFORE_STATUS, MALFORMED_STATUS, httpStatusReason, socketErrorReason } from "./fail-reason";
import { INCOMPLETE, MALFORMED, STATUS_HEAD_BYTES, statusCode, statusPasses } from "./http-status";

/** Sockets opened by probes and not closed yet, so stop() can wait for the last one. */
export class OpenSockets {
  count = 0;
  private waiters: (() => void)[] = [];

  opened(): void {
    this.count++;
  }

  closed(): void {
    if (--this.count === 0 && this.waiters.length > 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once every socket has emitted "close". */
  drained(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Reads go here; only the first STATUS_HEAD_BYTES of an answer are kept (in the probe's head). */
const sharedReadBuffer = Buffer.allocUnsafe(256);

/** Called once per check: `failReason` undefined means the check passed. */
export type ProbeResult = (failReason: string | undefined) => void;

export class Probe {
  private socket: Socket | undefined;
  private readonly options: TcpNetConnectOpts;
  /** The status line's first bytes (HTTP checks only). */
  private readonly head: Buffer | undefined;
  private headLen = 0;
  private readonly onConnect: (this: Socket) => void;
  private readonly onError: (this: Socket, err: Error) => void;
  private readonly onClose: (this: Socket) => void;

  constructor(
    ip: string,
    port: number,
    private readonly request: Buffer | undefined,
    private readonly sockets: OpenSockets,
    private readonly result: ProbeResult,
  ) {
    // Handlers are made once and compare `this` (the emitting socket) with the current one,
    // so a late event of a socket already given up on is ignored.
    const probe = this;
    this.onConnect = function () {
      if (this !== probe.socket) return;
      if (probe.request) this.write(probe.request);
      else probe.finish(undefined);
    };
    this.onError = function (err) {
      if (this === probe.socket) probe.finish(socketErrorReason(err));
    };
    this.onClose = function () {
      sockets.closed();
      if (this === probe.socket) probe.finish(probe.headLen > 0 ? MALFORMED_STATUS : CLOSED_BEFORE_STATUS);
    };
    const onRead = function (this: Socket, nread: number, buf: Buffer): boolean {
      if (this !== probe.socket) return false;
      const head = probe.head;
      if (!head) return false; // a TCP check never reads
      const take = Math.min(nread, STATUS_HEAD_BYTES - probe.headLen);
      buf.copy(head, probe.headLen, 0, take);
      probe.headLen += take;
      const code = statusCode(head, probe.headLen);
      if (code === INCOMPLETE) return true;
      probe.finish(code === MALFORMED ? MALFORMED_STATUS : statusPasses(code) ? undefined : httpStatusReason(code));
      return false;
    };
    this.head = request ? Buffer.alloc(STATUS_HEAD_BYTES) : undefined;
    this.options = { host: ip, port, onread: { buffer: sharedReadBuffer, callback: onRead } };
  }

  /** Starts a check; the result comes through the constructor's callback, once. */
  start(): void {
    this.headLen = 0;
    const s = connect(this.options);
    this.sockets.opened();
    this.socket = s;
    // `on`, not `once`: each fires once per socket anyway, and `once` would wrap every handler anew.
    s.on("connect", this.onConnect);
    s.on("error", this.onError);
    s.on("close", this.onClose);
  }

  /** Gives up on the check in flight (timeout, removed target, stop): no result is reported. */
  abort(): void {
    const s = this.socket;
    if (!s) return;
    this.socket = undefined;
    close(s);
  }

  private finish(failReason: string | undefined): void {
    this.abort();
    this.result(failReason);
  }
}

function close(s: Socket): void {
  // resetAndDestroy on a socket still connecting would wait for the connect: destroy it outright.
  if (s.connecting || s.destroyed) s.destroy();
  else s.resetAndDestroy();
}
