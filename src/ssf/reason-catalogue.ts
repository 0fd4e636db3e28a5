/**
 * The catalogue of translated SET reason texts ({@link levelChangeReasons}, {@link revokedReasons}):
 * per language other than English, the level names, the behaviors by name, and the admin and
 * end-user sentences of level changes and session revocations.
 */
import type { ReasonLanguage, RiskLevel } from '../types.js';

/** One language's reason texts. */
export interface Catalogue {
  levels: Record<RiskLevel, string>;
  behaviors: Record<string, string>;
  /** Admin summary of a level change: behaviors (joined), previous, current. */
  change: (behaviors: string, previous: string, current: string) => string;
  /** Admin summary of a change with no active behavior left (expiry, reset). */
  cleared: (previous: string, current: string) => string;
  /** End-user text of a raised / lowered level. */
  userRaised: string;
  userLowered: string;
  /** Admin / end-user text of a revoked session; `reason` is the admin's own words. */
  revoked: (reason: string) => string;
  userRevoked: string;
  /** The same for a session revoked by a `responses:` rule (initiating entity `policy`). */
  policyRevoked: (reason: string) => string;
  userPolicyRevoked: string;
}

/** The reason texts of every language besides English (`reason_languages`). */
export const CATALOGUE: Record<Exclude<ReasonLanguage, 'en'>, Catalogue> = {
  de: {
    levels: { low: 'NIEDRIG', medium: 'MITTEL', high: 'HOCH' },
    behaviors: {
      impossible_travel: 'Unmögliche Reise',
      dlp_detection: 'DLP-Erkennung',
      high_dlp: 'Viele DLP-Treffer',
      endpoint_detection: 'Endpunkt-Erkennung',
      device_posture_score: 'Schwacher Gerätezustand',
      malicious_file: 'Schädliche Datei',
      security_domain: 'Sicherheitsrisiko-Domain',
      high_risk_domain: 'Hochrisiko-Domain',
      brute_force: 'Brute-Force-Anmeldung',
      mfa_fatigue: 'MFA-Ermüdung (Push-Bombing)',
      new_country: 'Anmeldung aus neuem Land',
      session_hijack: 'Übernommene Sitzung',
      password_spray: 'Password-Spraying',
    },
    change: (b, p, c) => `Risikostufe ${p} → ${c}: ${b}`,
    cleared: (p, c) => `Risikostufe ${p} → ${c}: kein aktives Risikoverhalten mehr`,
    userRaised: 'Auf Ihrem Konto wurde ungewöhnliche Aktivität festgestellt.',
    userLowered: 'Die Risikostufe Ihres Kontos wurde gesenkt.',
    revoked: (r) => `Sitzung von einem Administrator beendet: ${r}`,
    userRevoked: 'Ihre Sitzung wurde von einem Administrator beendet.',
    policyRevoked: (r) => `Sitzung durch eine Sicherheitsrichtlinie beendet: ${r}`,
    userPolicyRevoked: 'Ihre Sitzung wurde durch eine Sicherheitsrichtlinie beendet.',
  },
  fr: {
    levels: { low: 'FAIBLE', medium: 'MOYEN', high: 'ÉLEVÉ' },
    behaviors: {
      impossible_travel: 'Voyage impossible',
      dlp_detection: 'Détection DLP',
      high_dlp: 'Nombreuses détections DLP',
      endpoint_detection: 'Détection sur le poste',
      device_posture_score: 'Posture de l’appareil faible',
      malicious_file: 'Fichier malveillant',
      security_domain: 'Domaine à risque de sécurité',
      high_risk_domain: 'Domaine à haut risque',
      brute_force: 'Force brute suivie d’une connexion',
      mfa_fatigue: 'Fatigue MFA (bombardement de notifications)',
      new_country: 'Connexion depuis un nouveau pays',
      session_hijack: 'Session détournée',
      password_spray: 'Pulvérisation de mots de passe',
    },
    change: (b, p, c) => `Niveau de risque ${p} → ${c} : ${b}`,
    cleared: (p, c) => `Niveau de risque ${p} → ${c} : plus aucun comportement à risque actif`,
    userRaised: 'Une activité inhabituelle a été détectée sur votre compte.',
    userLowered: 'Le niveau de risque de votre compte a été abaissé.',
    revoked: (r) => `Session révoquée par un administrateur : ${r}`,
    userRevoked: 'Votre session a été fermée par un administrateur.',
    policyRevoked: (r) => `Session révoquée par une règle de sécurité : ${r}`,
    userPolicyRevoked: 'Votre session a été fermée par une règle de sécurité.',
  },
  es: {
    levels: { low: 'BAJO', medium: 'MEDIO', high: 'ALTO' },
    behaviors: {
      impossible_travel: 'Viaje imposible',
      dlp_detection: 'Detección DLP',
      high_dlp: 'Muchas detecciones DLP',
      endpoint_detection: 'Detección en el endpoint',
      device_posture_score: 'Postura del dispositivo baja',
      malicious_file: 'Archivo malicioso',
      security_domain: 'Dominio de riesgo de seguridad',
      high_risk_domain: 'Dominio de alto riesgo',
      brute_force: 'Fuerza bruta seguida de inicio de sesión',
      mfa_fatigue: 'Fatiga de MFA (bombardeo de notificaciones)',
      new_country: 'Inicio de sesión desde un país nuevo',
      session_hijack: 'Sesión secuestrada',
      password_spray: 'Rociado de contraseñas',
    },
    change: (b, p, c) => `Nivel de riesgo ${p} → ${c}: ${b}`,
    cleared: (p, c) => `Nivel de riesgo ${p} → ${c}: ningún comportamiento de riesgo activo`,
    userRaised: 'Se detectó actividad inusual en su cuenta.',
    userLowered: 'Se redujo el nivel de riesgo de su cuenta.',
    revoked: (r) => `Sesión revocada por un administrador: ${r}`,
    userRevoked: 'Un administrador cerró su sesión.',
    policyRevoked: (r) => `Sesión revocada por una política de seguridad: ${r}`,
    userPolicyRevoked: 'Una política de seguridad cerró su sesión.',
  },
  it: {
    levels: { low: 'BASSO', medium: 'MEDIO', high: 'ALTO' },
    behaviors: {
      impossible_travel: 'Viaggio impossibile',
      dlp_detection: 'Rilevamento DLP',
      high_dlp: 'Molti rilevamenti DLP',
      endpoint_detection: 'Rilevamento sull’endpoint',
      device_posture_score: 'Postura del dispositivo bassa',
      malicious_file: 'File dannoso',
      security_domain: 'Dominio a rischio per la sicurezza',
      high_risk_domain: 'Dominio ad alto rischio',
      brute_force: 'Forza bruta seguita da accesso',
      mfa_fatigue: 'Affaticamento MFA (bombardamento di notifiche)',
      new_country: 'Accesso da un nuovo paese',
      session_hijack: 'Sessione dirottata',
      password_spray: 'Password spraying',
    },
    change: (b, p, c) => `Livello di rischio ${p} → ${c}: ${b}`,
    cleared: (p, c) => `Livello di rischio ${p} → ${c}: nessun comportamento a rischio attivo`,
    userRaised: 'È stata rilevata un’attività insolita sul tuo account.',
    userLowered: 'Il livello di rischio del tuo account è stato ridotto.',
    revoked: (r) => `Sessione revocata da un amministratore: ${r}`,
    userRevoked: 'La tua sessione è stata chiusa da un amministratore.',
    policyRevoked: (r) => `Sessione revocata da una policy di sicurezza: ${r}`,
    userPolicyRevoked: 'La tua sessione è stata chiusa da una policy di sicurezza.',
  },
  pt: {
    levels: { low: 'BAIXO', medium: 'MÉDIO', high: 'ALTO' },
    behaviors: {
      impossible_travel: 'Viagem impossível',
      dlp_detection: 'Deteção DLP',
      high_dlp: 'Muitas deteções DLP',
      endpoint_detection: 'Deteção no endpoint',
      device_posture_score: 'Postura do dispositivo baixa',
      malicious_file: 'Ficheiro malicioso',
      security_domain: 'Domínio de risco de segurança',
      high_risk_domain: 'Domínio de alto risco',
      brute_force: 'Força bruta seguida de início de sessão',
      mfa_fatigue: 'Fadiga de MFA (bombardeamento de notificações)',
      new_country: 'Início de sessão a partir de um novo país',
      session_hijack: 'Sessão sequestrada',
      password_spray: 'Pulverização de palavras-passe',
    },
    change: (b, p, c) => `Nível de risco ${p} → ${c}: ${b}`,
    cleared: (p, c) => `Nível de risco ${p} → ${c}: nenhum comportamento de risco ativo`,
    userRaised: 'Foi detetada atividade invulgar na sua conta.',
    userLowered: 'O nível de risco da sua conta foi reduzido.',
    revoked: (r) => `Sessão revogada por um administrador: ${r}`,
    userRevoked: 'A sua sessão foi terminada por um administrador.',
    policyRevoked: (r) => `Sessão revogada por uma política de segurança: ${r}`,
    userPolicyRevoked: 'A sua sessão foi terminada por uma política de segurança.',
  },
  nl: {
    levels: { low: 'LAAG', medium: 'GEMIDDELD', high: 'HOOG' },
    behaviors: {
      impossible_travel: 'Onmogelijke reis',
      dlp_detection: 'DLP-detectie',
      high_dlp: 'Veel DLP-detecties',
      endpoint_detection: 'Endpointdetectie',
      device_posture_score: 'Zwakke apparaatstatus',
      malicious_file: 'Kwaadaardig bestand',
      security_domain: 'Domein met beveiligingsrisico',
      high_risk_domain: 'Domein met hoog risico',
      brute_force: 'Brute force gevolgd door aanmelding',
      mfa_fatigue: 'MFA-moeheid (pushbombardement)',
      new_country: 'Aanmelding vanuit een nieuw land',
      session_hijack: 'Gekaapte sessie',
      password_spray: 'Wachtwoordspraying',
    },
    change: (b, p, c) => `Risiconiveau ${p} → ${c}: ${b}`,
    cleared: (p, c) => `Risiconiveau ${p} → ${c}: geen actief risicogedrag meer`,
    userRaised: 'Er is ongebruikelijke activiteit op uw account vastgesteld.',
    userLowered: 'Het risiconiveau van uw account is verlaagd.',
    revoked: (r) => `Sessie ingetrokken door een beheerder: ${r}`,
    userRevoked: 'Uw sessie is door een beheerder beëindigd.',
    policyRevoked: (r) => `Sessie ingetrokken door een beveiligingsbeleid: ${r}`,
    userPolicyRevoked: 'Uw sessie is door een beveiligingsbeleid beëindigd.',
  },
  ja: {
    levels: { low: '低', medium: '中', high: '高' },
    behaviors: {
      impossible_travel: 'あり得ない移動',
      dlp_detection: 'DLP 検出',
      high_dlp: '多数の DLP 検出',
      endpoint_detection: 'エンドポイント検出',
      device_posture_score: 'デバイスのポスチャ低下',
      malicious_file: '悪意のあるファイル',
      security_domain: 'セキュリティリスクのあるドメイン',
      high_risk_domain: '高リスクのドメイン',
      brute_force: 'ブルートフォース後のサインイン',
      mfa_fatigue: 'MFA 疲労攻撃（プッシュ爆撃）',
      new_country: '新しい国からのサインイン',
      session_hijack: '乗っ取られたセッション',
      password_spray: 'パスワードスプレー攻撃',
    },
    change: (b, p, c) => `リスクレベル ${p} → ${c}: ${b}`,
    cleared: (p, c) => `リスクレベル ${p} → ${c}: 有効なリスク行動はありません`,
    userRaised: 'お客様のアカウントで通常と異なるアクティビティが検出されました。',
    userLowered: 'お客様のアカウントのリスクレベルが引き下げられました。',
    revoked: (r) => `管理者によりセッションが取り消されました: ${r}`,
    userRevoked: 'お客様のセッションは管理者により終了されました。',
    policyRevoked: (r) => `セキュリティポリシーによりセッションが取り消されました: ${r}`,
    userPolicyRevoked: 'お客様のセッションはセキュリティポリシーにより終了されました。',
  },
};
