export {
  createMailer,
  EXCHANGE_MAX_CONNECTIONS,
  EXCHANGE_MESSAGES_PER_MINUTE,
  type Mailer,
  type MailerLimits,
  type MailerOptions,
  type RawMessage,
  type SendResult,
} from './mailer.js';
