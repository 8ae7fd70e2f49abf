/**
 * The MLS delivery service (src/shared/mls-api.ts): devices, the KeyPackage directory, the
 * per-conversation handshake log, Welcomes and the wrapped recovery blobs. The server stores and
 * forwards opaque MLS bytes; it never decrypts them (of a commit it reads only the cleartext
 * header: ../mls/framing.ts), and logs nothing about them.
 */
import type { FastifyPluginAsync } from 'fastify';
import { backupRoutes } from '../mls/backup-routes.ts';
import { deviceRoutes } from '../mls/device-routes.ts';
import { groupRoutes } from '../mls/group-routes.ts';
import { keyPackageRoutes } from '../mls/key-package-routes.ts';
import type { MlsRouteOptions } from '../mls/options.ts';
import { welcomeRoutes } from '../mls/welcome-routes.ts';

export const mlsRoutes: FastifyPluginAsync<MlsRouteOptions> = async (app, opts) => {
  await app.register(deviceRoutes, opts);
  await app.register(keyPackageRoutes, opts);
  await app.register(groupRoutes, opts);
  await app.register(welcomeRoutes, opts);
  await app.register(backupRoutes);
};
