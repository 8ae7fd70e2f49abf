/** What the MLS route plugins get from buildApp. */
import type { MlsAdversary } from './adversary.ts';

export interface MlsRouteOptions {
  /** Test-only misbehaviour (AppDeps.mlsAdversary); absent in every real server. */
  adversary?: MlsAdversary;
}
