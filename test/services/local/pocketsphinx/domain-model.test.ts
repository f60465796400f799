import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_DICT_PATH, PocketsphinxDecoder, PocketsphinxSTTService } from '../../../../src/services/local/pocketsphinx/index.js';
import { buildDomainModel, normaliseWords } from '../../../../src/services/local/pocketsphinx/domain-model.js';
import { concatAudio, silence, synthesizeSpeech } from '../../../../src/testing/speech.js';
import { hasPocketsphinx, pocketsphinxNeeds as needs } from '../../../support/pocketsphinx.js';

const decoders: PocketsphinxDecoder[] = [];
afterEach(async () => {
  await Promise.all(decoders.splice(0).map((d) => d.free()));
});

async function decoder(options: Parameters<typeof PocketsphinxDecoder.create>[0]): Promise<PocketsphinxDecoder> {
  const d = await PocketsphinxDecoder.create(options);
  decoders.push(d);
  return d;
}

const padded = async (text: string, voice: 'slt' | 'kal16' = 'slt'): Promise<Int16Array> =>
  concatAudio(silence(200, 16000), await synthesizeSpeech(text, { voice }), silence(200, 16000));

describe('the domain language model', () => {
  it('normalises phrases the way the dictionary spells words', () => {
    expect(normaliseWords("Order #4512, that's it!")).toEqual(['order', 'four', 'thousand', 'five', 'hundred', 'twelve', "that's", 'it']);
    expect(normaliseWords('mm-hmm 2nd')).toEqual(['mm', 'hmm', 'two', 'nd']);
  });

  it.skipIf(!hasPocketsphinx)(`leaves out words the dictionary lacks, without joining their neighbours${needs}`, () => {
    const directory = mkdtempSync(join(tmpdir(), 'domain-lm-'));
    const model = buildDomainModel({ phrases: ['call zzqxv now please'], includeCore: false, dictPath: DEFAULT_DICT_PATH, directory });
    expect(model.missingWords).toEqual(['zzqxv']);
    expect(model.words).toBe(3);
    const arpa = readFileSync(model.lmPath, 'utf8');
    expect(arpa).toContain('\tcall </s>');
    expect(arpa).toContain('\t<s> now');
    expect(arpa).not.toContain('call now');
    // The dictionary holds the model's words only, with their alternative pronunciations.
    const dict = readFileSync(model.dictPath, 'latin1').trim().split('\n').map((l) => l.split(' ')[0]);
    expect(dict.filter((w) => !w!.includes('('))).toEqual(['call', 'now', 'please']);
    // Same phrases, same files.
    expect(buildDomainModel({ phrases: ['call zzqxv now please'], includeCore: false, dictPath: DEFAULT_DICT_PATH, directory }).lmPath).toBe(model.lmPath);
    expect(existsSync(model.lmPath)).toBe(true);
  });

  it('checks the options', () => {
    expect(() => new PocketsphinxSTTService({ phrases: 'hello' as unknown as string[] })).toThrow(/phrases must be an array/);
    expect(() => new PocketsphinxSTTService({ phrases: ['hello'], lmPath: '/x.lm' })).toThrow(/either phrases or lmPath/);
    expect(() => new PocketsphinxSTTService({ phrases: ['hello'], mode: { grammar: '#JSGF V1.0;\ngrammar g;\npublic <a> = yes;\n' } })).toThrow(
      /phrases are for dictation/,
    );
  });

  it.skipIf(!hasPocketsphinx)(`hears requests for a human the general model gets wrong${needs}`, async () => {
    const stt = new PocketsphinxSTTService({ phrases: ['I want to talk to a human', 'Can I speak to a person please', 'Goodbye'] });
    expect(stt.missingWords).toEqual([]);
    const domain = buildDomainModel({ phrases: ['I want to talk to a human', 'Can I speak to a person please', 'Goodbye'], dictPath: DEFAULT_DICT_PATH });
    const withDomain = await decoder({ mode: 'dictation', lmPath: domain.lmPath, dictPath: domain.dictPath });
    const general = await decoder({ mode: 'dictation' });
    // Observed with the general model: "can i add to a human" (slt).
    const speech = await padded('Can I talk to a human');
    expect(await general.decode(speech)).not.toBe('can i talk to a human');
    expect(await withDomain.decode(speech)).toBe('can i talk to a human');
  }, 90_000);
});

describe('PocketsphinxDecoder across utterances', () => {
  it.skipIf(!hasPocketsphinx)(`hears an utterance the same whatever was said before it${needs}`, async () => {
    // The demo's mishearing: with the library's live cepstral mean, "Hello there" first made the request below
    // come out as "i want to talk to you but please".
    const hello = await padded('Hello there');
    const request = await padded('I want to talk to a human please');
    const fresh = await decoder({ mode: 'dictation' });
    const alone = await fresh.decode(request);
    const used = await decoder({ mode: 'dictation' });
    await used.decode(hello);
    expect(await used.decode(request)).toBe(alone);
    expect(await used.decode(request)).toBe(alone);
  }, 90_000);
});
