// The AWS services `servicesFromEnvironment` can pick read the same variables: the keys, an optional session token
// (temporary credentials) and the region. Polly's choice (cloud-tts.ts) reads them too.
import type { AwsCredentials } from '../aws/sigv4.js';

type KeyReader = (name: string) => string | undefined;

/** AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) + AWS_REGION (or AWS_DEFAULT_REGION), or undefined. */
export function awsFromEnvironment(key: KeyReader): { credentials: AwsCredentials; region: string } | undefined {
  const accessKeyId = key('AWS_ACCESS_KEY_ID');
  const secretAccessKey = key('AWS_SECRET_ACCESS_KEY');
  const region = key('AWS_REGION') ?? key('AWS_DEFAULT_REGION');
  if (accessKeyId === undefined || secretAccessKey === undefined || region === undefined) return undefined;
  const sessionToken = key('AWS_SESSION_TOKEN');
  return { credentials: { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) }, region };
}
