/** Group-size scaling: time and bytes to add one member to an N-member group, and stored state per device. */
import {
  conversationGroupId,
  createAccountKey,
  createDevice,
  generateKeyPackages,
  MemoryPinStore,
  MlsGroup,
  type OwnKeyPackage,
} from '../../web-client/src/crypto/index.ts';

export interface GroupFigures {
  /** Group size before the add. */
  members: number;
  /** Building the group: every member added by the owner in one commit (worst-case tree: blank parents), ms. */
  buildMs: number;
  /** Creating the commit that adds one more member, ms. */
  addOneMs: number;
  addOneCommitBytes: number;
  addOneWelcomeBytes: number;
  /** A newcomer joining from that Welcome (validates the whole tree), ms. */
  joinMs: number;
  /** An existing member processing the add commit, ms. */
  processMs: number;
  /** encode() of the owner's group state after the add (what each device stores, encrypted), bytes. */
  stateBytes: number;
  /** One self-update commit by the newcomer (full path), bytes and ms. */
  updateCommitBytes: number;
  updateMs: number;
}

async function member(i: number) {
  const device = await createDevice(await createAccountKey(), `user${i}`, `dev${i}`);
  const kps: OwnKeyPackage[] = await generateKeyPackages(device, 1);
  return { device, kps };
}

/** Measures one group size; `log` receives progress lines (stderr). */
export async function groupFigures(n: number, log: (s: string) => void): Promise<GroupFigures> {
  const pins = new MemoryPinStore();
  const owner = await member(0);
  const others = [];
  for (let i = 1; i < n; i++) others.push(await member(i));
  log(`  ${n}: ${n} devices and KeyPackages generated`);
  let t = performance.now();
  let g = await MlsGroup.create(owner.device, conversationGroupId(`bench-${n}`), pins);
  const build = await g.add(others.map((o) => ({ userId: o.device.userId, keyPackage: o.kps[0].keyPackage })));
  g = build.accept();
  const buildMs = performance.now() - t;
  log(`  ${n}: group built in ${Math.round(buildMs)} ms`);
  // One existing member joins so it can process the next commit.
  const witness = others[0];
  let w = (await MlsGroup.join(witness.device, build.welcome!, witness.kps, new MemoryPinStore())).group;
  const newcomer = await member(n);
  t = performance.now();
  const addOne = await g.add([{ userId: newcomer.device.userId, keyPackage: newcomer.kps[0].keyPackage }]);
  const addOneMs = performance.now() - t;
  g = addOne.accept();
  t = performance.now();
  w = (await w.process(addOne.commit)).group;
  const processMs = performance.now() - t;
  t = performance.now();
  const joined = (await MlsGroup.join(newcomer.device, addOne.welcome!, newcomer.kps, new MemoryPinStore())).group;
  const joinMs = performance.now() - t;
  t = performance.now();
  const up = await joined.selfUpdate();
  const updateMs = performance.now() - t;
  up.accept();
  return {
    members: n,
    buildMs,
    addOneMs,
    addOneCommitBytes: addOne.commit.length,
    addOneWelcomeBytes: addOne.welcome!.length,
    joinMs,
    processMs,
    stateBytes: g.encode().length,
    updateCommitBytes: up.commit.length,
    updateMs,
  };
}
