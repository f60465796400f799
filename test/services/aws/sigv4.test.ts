// SigV4 against AWS's published test suite (aws-sig-v4-test-suite: the credentials AKIDEXAMPLE /
// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, us-east-1, service "service", 2015-08-30T12:36:00Z): a signer that is
// nearly right is refused by AWS with no explanation, so the expected values are AWS's, not ours.
import { describe, expect, it } from 'vitest';
import { canonicalRequest, signAwsRequest } from '../../../src/services/aws/sigv4.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = new Date('2015-08-30T12:36:00Z');
const sign = (method: string, url: string, headers: Record<string, string> = {}) =>
  signAwsRequest({ method, url, headers, region: 'us-east-1', service: 'service', credentials, now }).authorization;

describe('signAwsRequest: the AWS SigV4 test suite', () => {
  it.each([
    ['get-vanilla', 'GET', 'https://example.amazonaws.com/', {}, 'host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['post-vanilla', 'POST', 'https://example.amazonaws.com/', {}, 'host;x-amz-date', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
    ['get-vanilla-query-order-key-case', 'GET', 'https://example.amazonaws.com/?Param2=value2&Param1=value1', {}, 'host;x-amz-date', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
    ['get-utf8', 'GET', 'https://example.amazonaws.com/ሴ', {}, 'host;x-amz-date', '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85'],
    ['post-header-key-sort', 'POST', 'https://example.amazonaws.com/', { 'My-Header1': 'value1' }, 'host;my-header1;x-amz-date', 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c'],
  ])('%s', (_name, method, url, headers, signed, expected) => {
    expect(sign(method, url, headers)).toBe(`AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signed}, Signature=${expected}`);
  });

  it('builds the canonical request of get-vanilla as the suite prints it', () => {
    const { text } = canonicalRequest({
      method: 'GET',
      url: new URL('https://example.amazonaws.com/'),
      headers: { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' },
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    expect(text).toBe('GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('signs a session token and the body; host is left for fetch to set', () => {
    const base = { method: 'POST', url: 'https://polly.us-east-1.amazonaws.com/v1/speech', region: 'us-east-1', service: 'polly', now };
    const a = signAwsRequest({ ...base, body: '{"Text":"a"}', credentials: { ...credentials, sessionToken: 'TOKEN' } });
    const b = signAwsRequest({ ...base, body: '{"Text":"b"}', credentials: { ...credentials, sessionToken: 'TOKEN' } });
    expect(a['x-amz-security-token']).toBe('TOKEN');
    expect(a.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token');
    expect(a.authorization).not.toBe(b.authorization);
    expect(a.host).toBeUndefined();
  });
});

describe('canonicalRequest: the path as sent, encoded once more (every service but S3)', () => {
  it("signs a Bedrock model id's `:` as %253A, and leaves a plain path as it is", () => {
    const url = new URL(`https://bedrock-runtime.us-east-1.amazonaws.com/model/${encodeURIComponent('anthropic.claude-3-haiku-20240307-v1:0')}/converse-stream`);
    const headers = { host: url.host };
    const twice = canonicalRequest({ method: 'POST', url, headers, payloadHash: 'x', doubleEncodePath: true }).text.split('\n')[1];
    expect(twice).toBe('/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse-stream');
    expect(canonicalRequest({ method: 'POST', url, headers, payloadHash: 'x' }).text.split('\n')[1]).toBe('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream');
    const plain = new URL('https://polly.us-east-1.amazonaws.com/v1/speech');
    expect(canonicalRequest({ method: 'POST', url: plain, headers, payloadHash: 'x', doubleEncodePath: true }).text.split('\n')[1]).toBe('/v1/speech');
  });
});
