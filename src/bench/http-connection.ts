import { connect, type Socket } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const LINE_END = Buffer.from('\r\n');

/** How far a response has been read: its status, then how its body ends. */
type Reading =
  | { stage: 'head' }
  | { stage: 'sized'; status: number; remaining: number; closes: boolean }
  | { stage: 'chunked'; status: number; closes: boolean };

/**
 * One keep-alive HTTP/1.1 client connection for the load generator, with at
 * most one request in flight. It writes requests already serialized and
 * reads back only what the generator needs: each response's status, found
 * through its Content-Length or chunked body. Far cheaper per request than
 * `node:http`, so that the generator takes little of the machine it
 * measures. Any error, or the server closing the connection, fails the
 * request in flight; the next request opens a new connection.
 */
export class HttpConnection {
  private socket: Socket | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private reading: Reading = { stage: 'head' };
  private callback: ((status: number | Error) => void) | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** Sends one serialized request; `done` gets the status, or the error. */
  send(request: Buffer, done: (status: number | Error) => void): void {
    if (this.callback) throw new Error('a request is already in flight on this connection');
    this.callback = done;
    this.reading = { stage: 'head' };
    this.pending = Buffer.alloc(0);
    this.open().write(request);
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    if (this.socket) return this.socket;
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    // A socket reports its end by 'error' and then 'close', or by 'close'
    // alone; only the first report, and only while the socket is still this
    // connection's, may fail the request in flight: a later one belongs to a
    // request that has since moved on to a new socket.
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.onData(chunk);
    });
    const lost = (error: Error) => {
      socket.destroy();
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.finish(error);
    };
    socket.on('error', lost);
    socket.on('close', () => lost(new Error('the server closed the connection')));
    this.socket = socket;
    return socket;
  }

  private finish(outcome: number | Error): void {
    const callback = this.callback;
    this.callback = undefined;
    callback?.(outcome);
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      const status = this.parse();
      if (status === undefined) return;
      // The server closes after an answer that says so: the next request
      // goes out on a new connection rather than onto one being closed.
      if (this.reading.stage !== 'head' && this.reading.closes) this.close();
      this.finish(status);
    } catch (error) {
      this.close();
      this.finish(error as Error);
    }
  }

  /** Consumes what has arrived; answers the status once the whole response has. */
  private parse(): number | undefined {
    for (;;) {
      const reading = this.reading;
      if (reading.stage === 'head') {
        const end = this.pending.indexOf(HEADER_END);
        if (end < 0) return undefined;
        const head = this.pending.subarray(0, end).toString('latin1');
        this.pending = this.pending.subarray(end + HEADER_END.length);
        this.reading = bodyOf(head);
        continue;
      }
      if (reading.stage === 'sized') {
        if (this.pending.length < reading.remaining) return undefined;
        return reading.status;
      }
      const lineEnd = this.pending.indexOf(LINE_END);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(this.pending.subarray(0, lineEnd).toString('latin1'), 16);
      if (!Number.isInteger(size) || size < 0) throw new Error('malformed chunk size');
      if (size === 0) {
        // The last chunk, then any trailer fields, then an empty line.
        const end = this.pending.indexOf(HEADER_END, lineEnd);
        if (end < 0) return undefined;
        this.pending = this.pending.subarray(end + HEADER_END.length);
        return reading.status;
      }
      const chunkEnd = lineEnd + LINE_END.length + size + LINE_END.length;
      if (this.pending.length < chunkEnd) return undefined;
      this.pending = this.pending.subarray(chunkEnd);
    }
  }
}

function bodyOf(head: string): Reading {
  const lines = head.split('\r\n');
  const status = Number((lines[0] ?? '').split(' ')[1]);
  if (!Number.isInteger(status)) throw new Error(`malformed status line: ${lines[0]}`);
  let length = 0;
  let chunked = false;
  let closes = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === 'transfer-encoding' && value.includes('chunked')) chunked = true;
    if (name === 'content-length') length = Number(value);
    if (name === 'connection' && value.includes('close')) closes = true;
  }
  if (chunked) return { stage: 'chunked', status, closes };
  return { stage: 'sized', status, remaining: length, closes };
}
