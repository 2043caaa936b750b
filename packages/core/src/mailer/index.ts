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
export { type SendTestOptions, type SendTestResult, sendTest } from './send-test.js';
