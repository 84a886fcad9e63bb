/**
 * The QNet wire codec: message and option numbers, decoded shapes, the decoder, the
 * server and client encoders and the incremental frame reader. Pure: no I/O.
 *
 * @module
 */
export * from "./constants.ts";
export * from "./types.ts";
export * from "./tlv_reader.ts";
export * from "./tlv_writer.ts";
export * from "./decode.ts";
export * from "./encode_server.ts";
export * from "./encode_client.ts";
export * from "./frame_decoder.ts";
