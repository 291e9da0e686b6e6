/** CONNECT HEADERS payloads recorded from real browsers against our server (see browser-vectors.test.ts). */

/** Chromium 156, default draft and draft-07 alike. */
export const CHROMIUM_156 = Buffer.from(
  '0000d7cf508b089d5c0b8170dc6da704ff51032f77742f00b95d8749c87a3f89f058d360ea4567b13f2f0e4148b782c6' +
  '9b07522b3d895a74a6b65692c1ca900b01315f4b909d29aee30c044eae05c0b86e32fb4f87',
  'hex',
);
/** Firefox ESR 153 (draft-02). */
export const FIREFOX_ESR_153 = Buffer.from(
  '0000cfd7508b089d5c0b8170dc6da704ff518363c27f2f00b95d8749c87a3f89f058d360ea4567b13f5f50b5d07f66a2' +
  '81b0dae053fafc087ed4ce6aadf2a7979c89c6bed4b3bdc0b6cae0fed4c452753b02004000802a61358594fe580b6cae' +
  '0fdd5f398b2d4b70ddf45abefb4005df5f10929bd9abfa5242cb40d25fa523b3e94f684c9f2f0e4148b782c69b07522b' +
  '3d895a74a6b65692c1ca900b810f5f4b909d29aee30c044eae05c0b86e32fb4f872f034148b4a549275a42a13f89f058' +
  'd360ea4567b13f2f034148b4a549275a93c85f85a8eb10f6232f034148b4a549275906497f8640e92ac8324b2eaec31e' +
  'c327d783b606bf2daec1cd48ff86a8eb10649cbfe7',
  'hex',
);
