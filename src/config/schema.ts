/**
 * The one configuration schema: it gives the type, the defaults and the validation.
 * A YAML key, its `--flag` and its `CHATROOM_*` variable share one name (nested keys join with
 * `_` in the variable: `tls.mode` ↔ `--tls` ↔ `CHATROOM_TLS_MODE`). Precedence: flag > env > file
 * > default. templates/config.yaml documents every key; keep them in step.
 */
import { Type, type Static } from '@sinclair/typebox';

export const TlsMode = Type.Union([
  Type.Literal('self-signed'),
  Type.Literal('acme'),
  Type.Literal('files'),
  Type.Literal('off'),
]);
export const RegistrationMode = Type.Union([Type.Literal('invite'), Type.Literal('open'), Type.Literal('closed')]);

const Port = Type.Integer({ minimum: 1, maximum: 65535 });

export const ConfigSchema = Type.Object(
  {
    /** Shown in the browser title and on sign-in; also the default server's name. */
    name: Type.String({ minLength: 1, maxLength: 64, default: 'chatroom' }),
    /** Where the database, uploads and certificates live; relative to the config file's folder. */
    dataDir: Type.String({ minLength: 1, default: '.' }),
    /** Bind address; 0.0.0.0 (all IPv4 interfaces) or :: (all) by default. */
    host: Type.String({ minLength: 1, default: '0.0.0.0' }),
    /** HTTPS port (HTTP when tls.mode is off). */
    port: Type.Union([Port, Type.Literal(0)], { default: 8443 }),
    /** HTTP port: redirects to HTTPS and answers ACME HTTP-01 challenges; 0 disables it. */
    httpPort: Type.Union([Port, Type.Literal(0)], { default: 8080 }),
    /** The address people use from outside, e.g. https://chat.example.org (links and Origin check). */
    publicUrl: Type.String({ default: '' }),
    /** Extra origins allowed to open the WebSocket (the server's own URLs are always allowed). */
    allowedOrigins: Type.Array(Type.String(), { default: [] }),
    /** Set when a reverse proxy terminates TLS in front of chatroom. */
    behindProxy: Type.Boolean({ default: false }),
    /** Addresses or CIDR ranges of the reverse proxies whose X-Forwarded-* headers are trusted (with behindProxy). */
    trustedProxies: Type.Array(Type.String({ minLength: 1 }), { default: ['127.0.0.1', '::1'] }),
    tls: Type.Object(
      {
        mode: Type.Union([TlsMode], { default: 'self-signed' }),
        /** A DNS name that points at this server (needed for acme). */
        domain: Type.String({ default: '' }),
        certFile: Type.String({ default: '' }),
        keyFile: Type.String({ default: '' }),
        acme: Type.Object(
          {
            directoryUrl: Type.String({ default: 'https://acme-v02.api.letsencrypt.org/directory' }),
            email: Type.String({ default: '' }),
            /** Extra CA certificate (PEM file) trusted when talking to the ACME server, e.g. a test CA. */
            caFile: Type.String({ default: '' }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Ask the home router to forward our ports (PCP / NAT-PMP / UPnP). */
    upnp: Type.Boolean({ default: true }),
    /** invite: only invite links; open: anyone can sign up; closed: nobody new. */
    registration: Type.Union([RegistrationMode], { default: 'invite' }),
    /** Messages older than this many days are deleted; 'forever' keeps them. */
    retentionDays: Type.Union([Type.Integer({ minimum: 1, maximum: 36500 }), Type.Literal('forever')], { default: 90 }),
    /** Lifetime of invite links, hours. */
    inviteTtlHours: Type.Integer({ minimum: 1, maximum: 8760, default: 168 }),
    /** Any group member may add people (false: only the group's creator). */
    groupMembersCanInvite: Type.Boolean({ default: true }),
    limits: Type.Object(
      {
        /** Largest WebSocket frame accepted, bytes. */
        maxFrameBytes: Type.Integer({ minimum: 1024, default: 131072 }),
        /** Largest decoded message body, bytes. */
        maxBodyBytes: Type.Integer({ minimum: 256, default: 65536 }),
        /** Sustained frames per second per connection (burst: 2×). */
        messagesPerSecond: Type.Integer({ minimum: 1, default: 20 }),
        /** Open WebSocket connections per client address. */
        connectionsPerIp: Type.Integer({ minimum: 1, default: 20 }),
        /** A connection whose unsent data exceeds this is closed (slow reader), bytes. */
        maxBufferedBytes: Type.Integer({ minimum: 65536, default: 4194304 }),
        /** Sign-in attempts per address per minute. */
        loginsPerMinute: Type.Integer({ minimum: 1, default: 10 }),
        /** Sign-ups per address per hour. */
        registrationsPerHour: Type.Integer({ minimum: 1, default: 10 }),
        /** Whole-request timeout, ms. */
        requestTimeoutMs: Type.Integer({ minimum: 1000, default: 30000 }),
        /** Largest attachment (photo, voice message, file) after encryption, bytes. */
        maxUploadBytes: Type.Integer({ minimum: 1024, default: 104857600 }),
        /** Attachment storage per user, bytes. */
        uploadQuotaBytes: Type.Integer({ minimum: 1024, default: 2147483648 }),
        /** Photos larger than this many pixels on their long side are downscaled before sending. */
        photoMaxDimension: Type.Integer({ minimum: 320, maximum: 16384, default: 2560 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/**
 * What the server gets: the validated config plus resolved absolute paths and secrets.
 * Frozen; the server never reads process.env.
 */
export interface ResolvedConfig extends Config {
  /** Absolute folder of chatroom.yaml. */
  configDir: string;
  /** Absolute data directory. */
  dataPath: string;
}

/** Secrets kept in <dir>/secrets.json (mode 0600), generated by init. */
export interface Secrets {
  /** HMAC key for deterministic fake salts of unknown usernames (base64, 32 bytes). */
  saltKey: string;
  /** HMAC key for hashing client addresses in rate-limit maps (base64, 32 bytes). */
  addressKey: string;
}
