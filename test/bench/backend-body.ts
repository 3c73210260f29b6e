// Bench constant (pure): the fixed 100-byte body the backend answers, which the bench checks
// through every target before loading it.
export const BACKEND_BODY = 'dockmaster bench backend: '.padEnd(99, 'x') + '\n';
