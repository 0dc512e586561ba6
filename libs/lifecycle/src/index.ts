// The file state machine (state-machine.ts) and the one way to move a file through it
// (FileLifecycle). Apps state intents; they never build a transition or spell a status list.
export * from './state-machine';
export * from './file-lifecycle';
export * from './upload-metrics';
export * from './lifecycle.module';
export * from './state-diagram';
