// The dashboard's live connection, /ws/staff (docs/protocol.md): reconnects with backoff and
// resumes after the last event it delivered, so nothing is missed and nothing comes twice.
// Reports its state ('live', 'reconnecting', 'offline') so the page can always show it.

export class LiveConnection {
  constructor({ onEvent, onReset, onState, onHello, onSignedOut }) {
    this.handlers = { onEvent, onReset, onState, onHello, onSignedOut };
    this.lastEvent = '';
    this.socket = null;
    this.attempts = 0;
    this.timer = 0;
    this.stopped = false;
    this.goOnline = () => { if (!this.socket && !this.stopped) this.connect(); };
    this.goOffline = () => this.handlers.onState('offline');
    window.addEventListener('online', this.goOnline);
    window.addEventListener('offline', this.goOffline);
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped || this.socket) return;
    const url = new URL('/ws/staff', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.lastEvent) url.searchParams.set('after', this.lastEvent);
    const socket = new WebSocket(url);
    this.socket = socket;
    let greeted = false;
    socket.addEventListener('message', (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame.type === 'hello') {
        greeted = true;
        this.attempts = 0;
        const resumed = this.lastEvent !== '';
        if (!resumed) this.lastEvent = frame.last_event || '';
        this.handlers.onHello(frame, resumed);
        this.handlers.onState('live');
      } else if (frame.type === 'reset') {
        this.handlers.onReset();
      } else if (frame.type === 'event') {
        if (frame.id) this.lastEvent = frame.id;
        this.handlers.onEvent(frame);
      }
    });
    socket.addEventListener('close', async (e) => {
      this.socket = null;
      if (this.stopped) return;
      if (!greeted && e.code === 1006 && this.attempts > 0 && (await this.signedOut())) return;
      this.attempts += 1;
      this.handlers.onState(navigator.onLine === false ? 'offline' : 'reconnecting');
      // 0.5 s, 1 s, 2 s … up to 15 s, with jitter so a restarted daemon is not hit all at once.
      const delay = Math.min(15000, 500 * 2 ** Math.min(this.attempts - 1, 5)) * (0.5 + Math.random() / 2);
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  // A refused upgrade looks like any dropped connection; ask whether the session is still there.
  async signedOut() {
    try {
      const r = await fetch('/api/v1/me', { credentials: 'same-origin' });
      if (r.status !== 401) return false;
    } catch {
      return false;
    }
    this.stop();
    this.handlers.onSignedOut();
    return true;
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.goOnline);
    window.removeEventListener('offline', this.goOffline);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }
}
