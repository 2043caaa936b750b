import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection, type SMTPConnectionOptions } from 'smtp-server/lib/smtp-connection.js';

/**
 * smtp-server waits 100 ms before the greeting of every connection to catch "early talkers" —
 * spam bots that send before the greeting, an MX-side defence (Postfix's postscreen does the same).
 * A submission relay's clients are devices that log in; the wait only caps the printer pattern
 * (one connection per message) at under 10 messages/s per device. This connection greets at once;
 * everything else is smtp-server's.
 */
class SubmissionConnection extends SMTPConnection {
  override init(): void {
    // smtp-server's init() minus the timer (maxClients is not used by the relay).
    (this as unknown as { _setListeners(ready: () => void): void })._setListeners(() =>
      this.connectionReady(),
    );
  }
}

/** smtp-server's SMTPServer, with connections that greet without the early-talker delay. */
export class SubmissionServer extends SMTPServer {
  override connect(socket: Socket | TLSSocket, socketOptions?: SMTPConnectionOptions | null): void {
    // The same as SMTPServer.connect, with our connection class.
    const connection = new SubmissionConnection(this, socket, socketOptions);
    this.connections.add(connection);
    connection.on('error', (error: Error) => this._onError(error));
    connection.on('connect', (data) => this._onClientConnect(data));
    connection.init();
  }
}
