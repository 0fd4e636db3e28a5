/**
 * scriptDataError: only a Lua runtime error of the commit script's own code on its data counts
 * toward isolating a partition. Redis's, the cluster's (during resharding) and the network's
 * errors never do: dead-lettering good items because a slot moved would lose them. The messages
 * are Redis's own (7.0 as captured from `EVAL`, 6.x as its scripting engine formats them).
 */
import { describe, expect, it } from 'vitest';
import { scriptDataError } from '../../src/engine/script-data-error.js';

const SHA = '3684ed04c5bb8f36046ee1478f879f8d73dc1bd2';
const reply = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' });
const in7 = (detail: string, line = 12): string => `${detail} script: ${SHA}, on @user_script:${line}.`;
const r6 = (detail: string): string => `ERR Error running script (call to f_${SHA}): @user_script:12: ${detail}`;

describe('scriptDataError', () => {
  it.each([
    ['msgpack decode (7.0)', in7('ERR user_script:79: Missing bytes in input.')],
    ['msgpack bad data (7.0)', in7('ERR user_script:337: Bad data format in input.')],
    ['cjson decode (7.0)', in7('ERR user_script:1: Expected value but found invalid token at character 1')],
    ['index of a nil value (7.0)', in7("ERR user_script:1: attempt to index local 't' (a nil value)")],
    ['arithmetic on a string (7.0)', in7("ERR user_script:1: attempt to perform arithmetic on field '?' (a string value)")],
    ['bad argument (7.0)', in7("ERR user_script:40: bad argument #1 to 'format' (number expected, got nil)")],
    ['too many results to unpack (7.0)', in7('ERR user_script:1: too many results to unpack')],
    ['table index is nil (7.0)', in7('ERR user_script:1: table index is nil')],
    ['table index is NaN (7.0)', in7('ERR user_script:1: table index is NaN')],
    ['stack overflow (7.0)', in7('ERR user_script:1: stack overflow')],
    ['stack overflow in msgpack decode (7.0)', in7('ERR user_script:1: stack overflow (in function mp_decode_to_lua_array)')],
    ['C stack overflow (7.0)', in7('ERR C stack overflow')],
    ['table index is nil (6.x)', r6('user_script:12: table index is nil')],
    ['msgpack decode (6.x)', r6('user_script:79: Missing bytes in input.')],
    ['index of a nil value (6.x)', r6("user_script:12: attempt to index field 'x' (a nil value)")],
  ])('%s: a failure of the data', (_, message) => {
    expect(scriptDataError(reply(message))).toBe(true);
  });

  it.each([
    ['non local key (7.0)', in7('ERR Script attempted to access a non local key in a cluster node')],
    ['keys of several slots (7.0)', in7('ERR Script attempted to access keys that do not hash to the same slot')],
    ['non local key (6.x)', r6('@user_script: 12: Lua script attempted to access a non local key in a cluster node')],
    ['OOM of a call (6.x)', r6("@user_script: 12: -OOM command not allowed when used memory > 'maxmemory'.")],
    ['OOM of a call (7.0)', in7("OOM command not allowed when used memory > 'maxmemory'.")],
    ['WRONGTYPE of a call (7.0)', in7('WRONGTYPE Operation against a key holding the wrong kind of value')],
    ['unknown command called (7.0)', in7('ERR Unknown Redis command called from script')],
    ['CROSSSLOT', "CROSSSLOT Keys in request don't hash to the same slot"],
    ['TRYAGAIN', 'TRYAGAIN Multiple keys request during rehashing of slot'],
    ['MOVED', 'MOVED 3999 127.0.0.1:7001'],
    ['ASK', 'ASK 3999 127.0.0.1:7001'],
    ['CLUSTERDOWN', 'CLUSTERDOWN The cluster is down'],
    ['LOADING', 'LOADING Redis is loading the dataset in memory'],
    ['BUSY', 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.'],
    ['NOSCRIPT', 'NOSCRIPT No matching script. Please use EVAL.'],
    ['OOM', "OOM command not allowed when used memory > 'maxmemory'."],
    ['READONLY', "READONLY You can't write against a read only replica."],
    ['script killed', 'ERR Error running script (call to f_x): @user_script:1: Script killed by user with SCRIPT KILL...'],
    ['an error reply without a script line', "ERR wrong number of arguments for 'evalsha' command"],
  ])('%s: not the data', (_, message) => {
    expect(scriptDataError(reply(message))).toBe(false);
  });

  it.each([
    ['a closed connection', new Error('Connection is closed.')],
    ['a command timeout', new Error('Command timed out')],
    ['a runtime message outside a reply', new Error("ERR user_script:1: attempt to index local 't' (a nil value)")],
    ['no error', null],
    ['a string', 'ERR user_script:1: Missing bytes in input.'],
  ])('%s: not the data', (_, err) => {
    expect(scriptDataError(err)).toBe(false);
  });
});
