#!/usr/bin/env node
/**
 * HubbleWave Integration Hub CDK app. Context flags: prefix, region, skipBundling, alarmEmail, logRetentionDays
 * (see README.md).
 */
import { createApp } from '../lib/app';

createApp().app.synth();
