// Lets esbuild bundle OpenTelemetry's CommonJS `require("async_hooks")` for workerd.
export { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
