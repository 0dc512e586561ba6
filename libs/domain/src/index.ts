// The upload domain's rules, with no I/O: how a file is split into parts, whether stored parts
// complete it, which content types a tenant's patterns allow, and what a storage event says.
// The file state machine is libs/lifecycle; the wire contracts are libs/contracts.
export * from './upload-plan';
export * from './mime';
export * from './storage-event';
