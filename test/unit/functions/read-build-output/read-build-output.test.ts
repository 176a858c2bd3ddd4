import { describe, expect, it } from 'vitest';
import {
  BuildOutputError,
  imageFromBuild,
} from '#functions/read-build-output/read-build-output.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const URI = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/wp@${DIGEST}`;

describe('imageFromBuild', () => {
  it('returns the exported image with the build id', () => {
    // Prepare
    const build = {
      Id: 'img:1',
      ExportedEnvironmentVariables: [
        { Name: 'IMAGE_URI', Value: URI },
        { Name: 'IMAGE_DIGEST', Value: DIGEST },
        { Name: 'IMAGE_TAG', Value: 'abc-1' },
      ],
    };
    // Act
    const result = imageFromBuild(build);
    // Assess
    expect(result).toEqual({ image: { uri: URI, digest: DIGEST, buildId: 'img:1' } });
  });

  it.each([
    [
      'no IMAGE_URI',
      [{ Name: 'IMAGE_DIGEST', Value: DIGEST }],
      /exported no IMAGE_URI \(exported: IMAGE_DIGEST\)/,
    ],
    [
      'an empty IMAGE_URI',
      [
        { Name: 'IMAGE_URI', Value: '' },
        { Name: 'IMAGE_DIGEST', Value: DIGEST },
      ],
      /exported no IMAGE_URI /,
    ],
    [
      'a value-less IMAGE_DIGEST',
      [{ Name: 'IMAGE_URI', Value: URI }, { Name: 'IMAGE_DIGEST' }],
      /exported no IMAGE_DIGEST/,
    ],
    ['nothing', [], /exported no IMAGE_URI and IMAGE_DIGEST \(exported: nothing\)/],
    [
      'a digest that is not sha256',
      [
        { Name: 'IMAGE_URI', Value: URI },
        { Name: 'IMAGE_DIGEST', Value: 'latest' },
      ],
      /IMAGE_DIGEST "latest", not sha256/,
    ],
  ])(
    'refuses a build that exported %s, naming the build and the variable',
    (_name, exported, message) => {
      // Prepare
      const build = { Id: 'img:2', ExportedEnvironmentVariables: exported };
      // Act
      const act = () => imageFromBuild(build);
      // Assess
      expect(act).toThrow(BuildOutputError);
      expect(act).toThrow(message);
      expect(act).toThrow(/build img:2 /);
    },
  );

  it('refuses a build with no ExportedEnvironmentVariables field', () => {
    // Prepare / Act / Assess
    expect(() => imageFromBuild({ Id: 'img:3' })).toThrow(
      expect.objectContaining({ name: 'BuildOutputError' }),
    );
  });
});
