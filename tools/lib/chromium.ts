/**
 * Where the system Chromium is and the flags that run it headless as root on our machines
 * (../shared/notes): the browser tests and the experiment's browser client both launch it.
 * Never --disable-quic: WebTransport needs QUIC.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
