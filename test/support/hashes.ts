// The hashes tests compute on their own, to check what the operator wrote without asking the code
// under test how it hashes: the hex SHA-256 of a token, as `status.token.sha256` and the Secret's
// `token-sha256` carry it (SPEC §2.3).
import { createHash } from 'node:crypto';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
