import { EventEmitter } from "events";
import * as net from "net";
import { decodePacket, encodePacket, PacketReader, PacketType, ViciMessage, ViciPacket } from "./wire";

/**
 * A vici connection to one charon: commands run one at a time (the protocol answers in
 * order), events go to `on("event", name, message)`. A streamed command (list-sas) registers
 * for its event first, collects the events sent before the response, then unregisters.
 * `close` is emitted once, when the socket ends for any reason (charon gone, close()).
 */
export class ViciClient extends EventEmitter {
  private readonly reader = new PacketReader();
  private waiter?: { resolve: (p: ViciPacket) => void; reject: (e: Error) => void };
  private chain: Promise<unknown> = Promise.resolve();
  private collecting?: { event: string; into: ViciMessage[] };
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    super();
    socket.on("data", (chunk) => {
      for (const body of this.reader.push(chunk)) {
        let packet: ViciPacket;
        try {
          packet = decodePacket(body);
        } catch (err) {
          socket.destroy(err as Error);
          return;
        }
        this.dispatch(packet);
      }
    });
    socket.on("error", () => { /* close follows */ });
    socket.on("close", () => {
      this.closed = true;
      this.waiter?.reject(new Error("vici connection closed"));
      this.waiter = undefined;
      this.emit("close");
    });
  }

  static connect(socketPath: string, timeoutMs = 2_000): Promise<ViciClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`vici ${socketPath}: no connection within ${timeoutMs} ms`)); }, timeoutMs);
      socket.once("error", (err) => { clearTimeout(timer); reject(err); });
      socket.once("connect", () => { clearTimeout(timer); resolve(new ViciClient(socket)); });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  /** Runs a command; rejects if charon does not know it, or (checkSuccess) answers success=no. */
  request(command: string, message: ViciMessage = {}, checkSuccess = true): Promise<ViciMessage> {
    return this.serial(async () => {
      const reply = await this.exchange({ type: PacketType.cmdRequest, name: command, message });
      if (reply.type === PacketType.cmdUnknown) throw new Error(`vici: charon does not know command ${command}`);
      if (checkSuccess && reply.message.success === "no") throw new Error(`vici ${command}: ${reply.message.errmsg ?? "failed"}`);
      return reply.message;
    });
  }

  /** A command that answers with a run of `event` packets before its response (list-sas, list-conns). */
  stream(command: string, event: string, message: ViciMessage = {}): Promise<ViciMessage[]> {
    return this.serial(async () => {
      await this.registration(PacketType.eventRegister, event);
      const into: ViciMessage[] = [];
      this.collecting = { event, into };
      try {
        const reply = await this.exchange({ type: PacketType.cmdRequest, name: command, message });
        if (reply.type === PacketType.cmdUnknown) throw new Error(`vici: charon does not know command ${command}`);
      } finally {
        this.collecting = undefined;
      }
      await this.registration(PacketType.eventUnregister, event);
      return into;
    });
  }

  /** Asks for `event` packets for the life of the connection (ike-updown, child-updown, ...). */
  subscribe(event: string): Promise<void> {
    return this.serial(() => this.registration(PacketType.eventRegister, event));
  }

  private async registration(type: number, event: string): Promise<void> {
    const reply = await this.exchange({ type, name: event, message: {} });
    if (reply.type !== PacketType.eventConfirm) throw new Error(`vici: charon refused event ${event}`);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private exchange(packet: ViciPacket): Promise<ViciPacket> {
    if (this.closed) return Promise.reject(new Error("vici connection closed"));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.socket.write(encodePacket(packet));
    });
  }

  private dispatch(packet: ViciPacket): void {
    if (packet.type === PacketType.event) {
      if (this.collecting && packet.name === this.collecting.event) this.collecting.into.push(packet.message);
      else this.emit("event", packet.name, packet.message);
      return;
    }
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve(packet);
  }
}
