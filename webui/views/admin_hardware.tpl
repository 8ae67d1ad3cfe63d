% rebase('base.tpl', title=_('E1 spans and FXO ports'), back_path='/admin/hardware')
% include('admin_nav.tpl')
% edit = ctx.can('site.edit')
% dis = '' if edit else 'disabled'
<h1>{{_('E1 spans and FXO ports')}}</h1>
<p>{{_('Board')}}: <strong id="board">{{board}}</strong> ({{driver}})
% if not confirmed:
<span class="warn">{{_('switchd is not running: showing board sim.')}}</span>
% end
</p>
<p class="hint">{{description}}</p>
% if note:
<p class="notice" id="applied">{{_(note)}}</p>
% end
% if errors:
<div class="error" id="form-errors" role="alert"><p>{{_('Not saved: please correct the marked fields. Nothing was changed.')}}</p><ul>
% for e in errors:
<li>{{e}}</li>
% end
</ul></div>
% end
% if restart is not None:
% if restart.get('ok') is False:
<p class="error" id="restart-result">{{_('switchd did not restart')}}: {{restart.get('error', '')}}</p>
% if restart.get('calls'):
<form method="post" action="/admin/hardware/restart" class="inline"><input type="hidden" name="csrf" value="{{ctx.csrf_token}}"><input type="hidden" name="force" value="1"><button class="danger" id="restart-force">{{_('Restart anyway and drop the calls')}}</button></form>
% end
% else:
<p class="notice" id="restart-result">{{_('switchd is restarting; it is back in a few seconds.')}}</p>
% end
% end
<h2>{{_('E1 spans')}} ({{len(spans)}})</h2>
% if spans:
<form method="post" action="/admin/hardware/spans" id="spans-form">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<table id="spans"><thead><tr><th>{{_('Span')}}</th><th>{{_('Type')}}</th><th>{{_('Signalling')}}</th><th>{{_('Timeslots')}}</th><th>{{_('Framing')}}</th><th>{{_('Line code')}}</th><th>CRC4</th><th>{{_('Timing')}}</th></tr></thead><tbody>
% for s in spans:
<tr data-span="{{s['n']}}"><td>{{s['n']}}</td><td>{{s['type']}}</td><td>{{s['signalling']}}</td><td>{{s['timeslots']}}</td>
<td><select name="span{{s['n']}}.framing" {{dis}}>
% for v in s['framings']:
<option value="{{v}}" {{'selected' if v == s['framing'] else ''}}>{{v}}</option>
% end
</select></td>
<td><select name="span{{s['n']}}.line_code" {{dis}}>
% for v in s['codings']:
<option value="{{v}}" {{'selected' if v == s['line_code'] else ''}}>{{v}}</option>
% end
</select></td>
<td><input type="checkbox" name="span{{s['n']}}.crc4" value="1" {{'checked' if s['crc4'] else ''}} {{dis}}></td>
<td><select name="span{{s['n']}}.timing" {{dis}}>
% for v in timings:
<option value="{{v}}" {{'selected' if v == s['timing'] else ''}}>{{_(v)}}</option>
% end
</select></td></tr>
% end
</tbody></table>
% if edit:
<p><button id="save-spans">{{_('Save')}}</button> <span class="hint">{{_('Takes effect when switchd restarts.')}}</span></p>
% end
</form>
<details><summary>{{_('Generated system.conf')}}</summary><pre id="system-conf">{{conf}}</pre></details>
% end
<h2>{{_('FXO ports')}} ({{len(ports)}})</h2>
% if ports:
<form method="post" action="/admin/hardware/ports" id="ports-form">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<table id="ports"><thead><tr><th>{{_('Port')}}</th><th>{{_('Inbound number')}}</th><th>{{_('Echo cancel')}}</th><th>{{_('Answer on polarity')}}</th><th>{{_('Hang up on polarity')}}</th><th>{{_('Busy tone detect')}}</th><th>{{_('Silence timeout (s)')}}</th><th>{{_('Ring timeout (s)')}}</th><th>{{_('Caller ID wait (s)')}}</th></tr></thead><tbody>
% for p in ports:
% n = p['name']
<tr data-port="{{n}}"><td>{{n}}</td>
<td><input name="{{n}}.inbound" id="{{n}}-inbound" value="{{p['inbound']}}" size="8" {{dis}}></td>
% for k in port_bools:
<td><input type="checkbox" name="{{n}}.{{k}}" value="1" {{'checked' if p[k] else ''}} {{dis}}></td>
% end
% for k in port_numbers:
<td><input name="{{n}}.{{k}}" id="{{n}}-{{k}}" value="{{p[k]}}" size="5" {{dis}}></td>
% end
</tr>
% end
</tbody></table>
% if edit:
<p><button id="save-ports">{{_('Save')}}</button> <span class="hint">{{_('Takes effect when switchd restarts.')}}</span></p>
% end
</form>
% end
% if edit:
<h2>{{_('Restart switchd')}}</h2>
<p class="hint">{{_('Span and FXO line settings are read when switchd starts. A restart drops calls in progress; switchd refuses while calls are up unless you confirm.')}}</p>
<form method="post" action="/admin/hardware/restart" class="inline"><input type="hidden" name="csrf" value="{{ctx.csrf_token}}"><button id="restart" data-confirm="{{_('Restart switchd now?')}}">{{_('Restart switchd')}}</button></form>
% end
