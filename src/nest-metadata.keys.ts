/**
 * The Nest metadata keys the library reads, from this one source:
 * `@nestjs/websockets/constants`, where Nest 11 and 12 both define them.
 */
export {
  GATEWAY_METADATA,
  GATEWAY_OPTIONS,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
  PARAM_ARGS_METADATA,
} from '@nestjs/websockets/constants.js';

/** `WsParamtype.SOCKET`: the key prefix of a `@ConnectedSocket()` parameter (Nest writes `"0:<index>"`). */
export const SOCKET_PARAM = '0';
