// Lets esbuild bundle OpenTelemetry's CommonJS `require("events")` for workerd.
import EventEmitter from 'node:events';
export { EventEmitter };
export default EventEmitter;
