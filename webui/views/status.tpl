% rebase('base.tpl', title=_('System status'), back_path='/status')
% from firmware.cli.status import format_duration
% def size(n):
%   return '-' if n is None else '%.1f GiB' % (n / 2**30) if n >= 2**30 else '%.0f MiB' % (n / 2**20)
% end
<h1>{{_('System status')}}</h1>
<div id="system" data-refresh="5">
% if problem:
<p class="error" id="switchd-down">{{problem}}</p>
% end
<table class="kv" id="host">
<tr><th>{{_('Box uptime')}}</th><td id="host-uptime">{{format_duration(f['host_uptime']) if f['host_uptime'] else '-'}}</td></tr>
<tr><th>{{_('switchd uptime')}}</th><td id="switchd-uptime">{{format_duration(float(f['switchd']['uptime'])) if f['switchd'] and f['switchd'].get('uptime') is not None else '-'}}</td></tr>
<tr><th>{{_('CPU')}}</th><td id="cpu">{{'%s %%' % f['cpu_percent'] if f['cpu_percent'] is not None else '-'}} ({{_('load')}} {{' '.join(str(x) for x in f['load'] or [])}}, {{f['cpus']}} {{_('cores')}})</td></tr>
% m = f['memory'] or {}
<tr><th>{{_('Memory')}}</th><td id="memory">{{size(m.get('used'))}} / {{size(m.get('total'))}}</td></tr>
% d = f['disk'] or {}
<tr><th>{{_('Data disk')}}</th><td id="disk">{{size(d.get('used'))}} / {{size(d.get('total'))}} ({{_('free')}} {{size(d.get('free'))}})</td></tr>
</table>
% s = f['switchd']
% if s:
<h2>{{_('Alarms')}}</h2>
% if s['alarms']:
<ul id="alarms" class="error">
% for a in s['alarms']:
<li>{{a}}</li>
% end
</ul>
% else:
<p id="alarms" class="ok">{{_('No alarms.')}}</p>
% end
<h2>{{_('Channels')}}</h2>
<table id="spans">
<thead><tr><th>{{_('Name')}}</th><th>{{_('Signalling')}}</th><th>{{_('D-channel')}}</th><th>{{_('Alarm')}}</th><th>{{_('Idle channels')}}</th><th>{{_('In use')}}</th></tr></thead>
<tbody>
% for span in s['spans']:
<tr><td>{{span.get('name', '')}}</td><td>{{span.get('signalling', '')}}</td><td>{{span.get('dchannel', '')}}</td><td>{{span.get('alarm') or _('none')}}</td><td>{{span.get('idle', '')}}</td><td>{{len(span.get('b_channels') or {})}}</td></tr>
% end
% for port in s['fxo']:
<tr><td>{{port.get('name', '')}}</td><td>FXO</td><td>{{port.get('hook', '')}}</td><td>{{port.get('alarm') or _('none')}}</td><td>{{1 if port.get('state') == 'idle' else 0}}</td><td>{{0 if port.get('state') == 'idle' else 1}}</td></tr>
% end
</tbody>
</table>
<h2>{{_('Registrations')}} (<span id="registrations">{{len(s['registrations'])}}</span>)</h2>
<table id="registration-list">
<thead><tr><th>{{_('Extension')}}</th><th>{{_('From')}}</th><th>{{_('Phone')}}</th><th>{{_('Expires (s)')}}</th></tr></thead>
<tbody>
% for r in s['registrations']:
<tr><td>{{r['aor']}}</td><td>{{r['source']}}</td><td>{{r['user_agent']}}</td><td>{{r['expires_in']}}</td></tr>
% end
</tbody>
</table>
<h2>{{_('Active calls')}} (<span id="active-calls">{{len(s['active_calls'])}}</span>)</h2>
<table id="call-list">
<thead><tr><th>{{_('Caller')}}</th><th>{{_('Called')}}</th><th>{{_('Answered by')}}</th><th>{{_('State')}}</th><th>{{_('Duration (s)')}}</th></tr></thead>
<tbody>
% for c in s['active_calls']:
<tr><td>{{c['caller']}}</td><td>{{c['called']}}</td><td>{{c['callee'] or ''}}</td><td>{{c['state']}}</td><td>{{c['age']}}</td></tr>
% end
</tbody>
</table>
% end
</div>
<script src="/static/status.js" defer></script>
