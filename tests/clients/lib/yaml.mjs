// The yaml package, for tests outside tests/clients (which has the node_modules).
export { parse, parseAllDocuments } from 'yaml';
