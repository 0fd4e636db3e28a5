import type { Command } from 'commander';
import { generateKeyFiles } from '../../ssf/keys.js';
import { SIGNING_ALGS, type SigningAlg } from '../../types.js';
import { print } from '../common.js';
import { RiskstreamError } from '../../errors.js';

function alg(v: string): SigningAlg {
  const a = v.toUpperCase();
  if (!(SIGNING_ALGS as readonly string[]).includes(a)) throw new RiskstreamError('BAD_REQUEST', `--alg must be one of ${SIGNING_ALGS.join(', ')}`);
  return a as SigningAlg;
}

/** `riskstream keys generate|rotate`: signing keys (private PEM 0600 + public JWK). */
export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('SET signing keys');
  keys
    .command('generate')
    .description('write a new private key (PKCS#8 PEM, mode 0600) and its public JWK')
    .option('--alg <alg>', 'ES256 or RS256', 'ES256')
    .requiredOption('--out <dir>', 'directory to write to')
    .option('--name <name>', 'file name (without extension)')
    .action(async (o: { alg: string; out: string; name?: string }) => {
      const g = await generateKeyFiles(alg(o.alg), o.out, o.name);
      print(`${g.alg} key ${g.kid}\n  private: ${g.privateKeyFile}\n  public:  ${g.publicJwkFile}\n`);
    });
  keys
    .command('rotate')
    .description('write a new signing key (as generate does) and print the steps that make it current: the config, signing.previous_public_keys, a reload')
    .option('--alg <alg>', 'ES256 or RS256', 'ES256')
    .requiredOption('--out <dir>', 'directory to write the new key to')
    .option('--name <name>', 'file name (without extension)')
    .action(async (o: { alg: string; out: string; name?: string }) => {
      const g = await generateKeyFiles(alg(o.alg), o.out, o.name);
      print(
        `new ${g.alg} key ${g.kid}: ${g.privateKeyFile}\n` +
          "to rotate: point signing.key_file (or the signing.keys entry) at the new file, add the old key's public\n" +
          'JWK file to signing.previous_public_keys, then reload every worker (SIGHUP). Both keys stay in the JWKS.\n' +
          'Receivers may cache the JWKS for up to 5 minutes (its max-age): to have them know the new key before it\n' +
          "signs, first add the new key's public JWK file to signing.previous_public_keys alone, reload, and wait 5 minutes.\n",
      );
    });
}
