// What every AWS client here checks and resolves the same way: the credentials option (keys, or a supplier asked
// per request / per socket for temporary ones it refreshes), the region, and the secrets to cut out of errors.
import type { AwsCredentials } from './sigv4.js';

/** Keys, or a supplier asked each time they are needed (for temporary credentials it refreshes). */
export type AwsCredentialsOption = AwsCredentials | (() => AwsCredentials | Promise<AwsCredentials>);

/** A TypeError naming the class when the keys are missing or the region is not an AWS region. */
export function checkAwsOptions(className: string, credentials: AwsCredentialsOption | undefined, region: string | undefined): void {
  if (typeof credentials !== 'function' && (credentials?.accessKeyId?.trim() ?? '') === '') {
    throw new TypeError(`${className}: credentials are required (e.g. { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY })`);
  }
  if (typeof credentials !== 'function' && (credentials?.secretAccessKey?.trim() ?? '') === '') {
    throw new TypeError(`${className}: credentials.secretAccessKey is required`);
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region ?? '')) throw new TypeError(`${className}: region must be an AWS region such as 'ap-south-1', got ${JSON.stringify(region)}`);
}

export async function resolveAwsCredentials(credentials: AwsCredentialsOption): Promise<AwsCredentials> {
  return typeof credentials === 'function' ? await credentials() : credentials;
}

/** Everything of the credentials that must never reach a log or an error (the key id included: it names the account's user). */
export function awsSecrets(credentials: AwsCredentials): string[] {
  return [credentials.accessKeyId, credentials.secretAccessKey, ...(credentials.sessionToken === undefined ? [] : [credentials.sessionToken])];
}

/**
 * The error type of an AWS JSON-protocol refusal: `x-amzn-ErrorType` (`ThrottlingException:http://internal...`) or the
 * body's `__type` (`com.amazon.coral.service#UnrecognizedClientException`), reduced to its last name.
 */
export function awsErrorType(header: string | null | undefined, bodyType: unknown): string {
  const raw = header ?? (typeof bodyType === 'string' ? bodyType : '');
  const name = raw.split(':')[0] ?? '';
  return name.split('#').at(-1) ?? '';
}

/** Error types that mean the credentials or signature were refused, whatever the status. */
export const AWS_AUTH_ERROR_TYPES = /^(UnrecognizedClient|InvalidSignature|SignatureDoesNotMatch|IncompleteSignature|MissingAuthenticationToken|ExpiredToken|InvalidClientTokenId|AccessDenied|NotAuthorized)/;
