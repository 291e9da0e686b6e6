/** QPACK with a zero-capacity dynamic table (RFC 9204) and the HPACK Huffman code (RFC 7541). */
export { decodeFieldSection, encodeFieldSection, MAX_FIELD_LINES, MAX_FIELD_SECTION_SIZE } from './field-section.js';
export type { DecodeFieldSectionOptions, EncodeFieldSectionOptions, FieldSectionResult, HeaderField } from './field-section.js';
export { QPACK_STATIC_TABLE, findStaticEntry } from './static-table.js';
export { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
export { decodePrefixedInt, encodePrefixedInt, MAX_PREFIXED_INTEGER } from './integer.js';
