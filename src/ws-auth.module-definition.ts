import { ConfigurableModuleBuilder, Inject } from '@nestjs/common';
import type { WsAuthModuleOptions } from './ws-auth-module-options.interface.js';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: WS_AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<WsAuthModuleOptions>()
  .setClassMethodName('forRoot')
  // Global by default: @WsRoles' guard and WsAuthConnections are used from the app's own modules.
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** Injects the options given to `WsAuthModule.forRoot()` / `forRootAsync()`, as given. */
export const InjectWsAuthOptions = (): PropertyDecorator & ParameterDecorator => Inject(WS_AUTH_MODULE_OPTIONS);
